# La mise en page, la connexion, les erreurs et ce que partagent les pages de tous les rôles.

skip-to-content = Aller au contenu
nav-label = Menu principal
nav-home = Ma page
nav-home-person = Ma page
nav-home-organisation = Notre page
nav-history = Qui a consulté mes données
signed-in-as = Connecté·e : { $name }
sign-out = Me déconnecter
language-switch = Langue
language-fr = Français
language-en = English
footer = Avec Insitu, vos données restent chez vous : les programmes viennent à elles, avec votre accord, et seul ce que vous avez permis en sort.
back-to-my-page = Revenir à ma page
none = Aucune.
older = Plus anciens
accept = Accepter
decline = Refuser
home-page-title = Ma page

login-page-title = Connexion
login-title = Se connecter à Insitu
login-name = Nom
login-password = Mot de passe
login-submit = Me connecter
login-failed = Le nom ou le mot de passe n'est pas le bon.

error-title = Erreur
error-title-bad-request = Impossible de faire cette demande
error-title-unauthorized = Connectez-vous d'abord
error-title-forbidden = Ce n'est pas permis
error-title-not-found = Introuvable
error-title-method = Pas de cette façon
error-title-conflict = C'est déjà fait
error-title-too-large = Trop volumineux
error-title-too-many = Trop d'essais
error-title-server = Un problème de notre côté
error-stale-form = Ce formulaire est périmé ou ne vient pas d'Insitu. Revenez en arrière, rechargez la page et recommencez.
error-internal = Le serveur a échoué ; rien n'a été modifié.
error-not-found = Il n'y a rien ici pour vous.
error-method = Cette page ne s'ouvre pas ainsi. Revenez en arrière et utilisez son lien ou son bouton.
error-login-origin = Connectez-vous depuis la page d'Insitu elle-même.
error-no-file = Choisissez un fichier à importer.
error-erase-password = Le mot de passe n'est pas le bon ; rien n'a été supprimé.
error-already-answered = Vous avez déjà répondu.
error-not-a-finding = « { $value } » n'est pas un constat.
error-join-or-decline = Dites si vous rejoignez l'action ou si vous refusez.
error-tick-a-finding = Cochez au moins un constat à partager, ou refusez.
error-not-a-parameter = « { $line } » n'est pas de la forme nom=valeur.
error-not-a-field = « { $value } » n'est pas de la forme collection/champ.
error-not-a-number = { $name } : « { $value } » n'est pas un nombre.

status-pending = en attente
status-approved = acceptée (autorisation { $grant })
status-denied = refusée

run = Exécution
run-link = Exécution { $id }
run-started = Lancée le
run-outcome = Résultat
run-records-read = Enregistrements lus
run-failed-short = échec : { $reason }
run-failed-long = échec ({ $reason }) : { $message }
run-result-from = résultat à partir du { $when }
run-not-shown = non montré
run-status-succeeded = réussie
run-status-failed = échouée
run-status-withheld = retenue
run-outcome-label = Résultat :
run-usage = { $records } enregistrements lus ; { $fuel } instructions ; { $ms } ms.
run-price = Prix : { $price }
run-not-billed = non facturée
run-started-release = Lancée le { $started } ; son résultat, s'il vous est destiné, se lit à partir du { $release }.
run-persons-to-know = Le déroulement de l'exécution ne regarde que la personne : il dépend de ses données.
run-output = Ce qui en sort
run-no-output = Cette exécution n'a rien pour vous.

role-person = de particulier
role-organisation = d'organisation
role-developer = de développeur
role-operator = d'opérateur
role-officer = d'officier des brevets
api-home = Ce compte { $role } s'utilise par l'API ; sa description est ici :
