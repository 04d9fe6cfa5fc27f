# La page d'une personne, l'historique des accès, l'import, l'effacement.

person-title = Mes données
data-title = Ce que je garde ici
data-collection = Collection
data-records = Enregistrements
import-legend = Importer un fichier (relevé bancaire, tickets de caisse, export)
import-file = Fichier
import-collection = Collection (pour un CSV ou du JSON Lines)
import-submit = Importer
imported-title = Import terminé
imported-report = { $file } ({ $format }) dans { $collection } : { $read ->
    [one] { $read } enregistrement lu
   *[other] { $read } enregistrements lus
  }, { $added ->
    [one] { $added } ajouté
   *[other] { $added } ajoutés
  }, { $duplicates } déjà là.
imported-duplicate-lines = Déjà là : ligne(s) { $lines }.

requests-title = Demandes qui attendent votre réponse
request-line = { $requester } demande un accès pendant { $days ->
    [one] { $days } jour
   *[other] { $days } jours
  } : { $purpose }

invitations-title = Invitations à une action collective
invitation-title = { $association } contre { $brand }
invitation-text = { $description } : d'après vos données, cela vous est arrivé aussi. Voulez-vous vous joindre à l'action ?
invitation-joined = Vous avez rejoint l'action et partagé { $count ->
    [one] { $count } constat
   *[other] { $count } constats
  }.
invitation-declined = Vous avez refusé.
invitation-legend = Ce que vous partagerez avec { $association } si vous rejoignez l'action (vous seul·e voyez cette liste)
finding-line = { $date }, règle { $rule } : { $label }, montant { $amount }, perte { $loss }. { $reason }
finding-cites = les enregistrements sur lesquels il s'appuie (non partagés)
finding-record = { $collection }, enregistrement du { $date } : { $fields }
invitation-join = Rejoindre et partager les constats cochés

contacts-title = Des personnes avec qui échanger
contact-asked = demande envoyée
contact-connected = en contact
contact-declined = refusée
contact-role-mentor = mentor
contact-role-mentee = personne accompagnée
contact-name-hidden = (son nom s'affichera quand vous aurez accepté tous les deux)

earnings-title = Ce que j'ai gagné
earnings-nothing = Rien pour l'instant.
earnings-balance = Solde : { $amount }
earnings-date = Date
earnings-amount = Montant
earnings-for = Pour

grants-title = Mes autorisations
grants-grant = Autorisation
grants-to = À qui
grants-data = Données
grants-expires = Jusqu'au
grants-actions = Actions
grant-revoked = retirée
grant-expired = expirée
grant-never = sans fin
grant-to-you = vous
grant-revoke = Retirer l'autorisation { $id }
grant-params = Paramètres, un par ligne
grant-run = Lancer avec l'autorisation { $id }

runs-on-my-data = Les programmes lancés sur mes données
returns-title = Les données que des organisations peuvent me rendre
return-line = { $organisation } dans { $collection }
return-line-withdrawn = { $organisation } dans { $collection } (retirée)

rights-title = Mes droits
rights-export = Télécharger toutes mes données
rights-export-what = (une seule archive : JSON Lines et CSV, avec mes autorisations et l'historique des accès).
erase-legend = Supprimer mon compte et toutes mes données
erase-password = Mot de passe
erase-submit = Tout supprimer
erased-page-title = Compte supprimé
erased-title = Votre compte est supprimé
erased-text = Vos enregistrements, exécutions et résultats ont disparu et vos autorisations sont retirées. Le journal ne garde qu'une trace avec des nombres.

history-title = Qui a consulté mes données
history-intro = Tout ce qui a touché à vos données, du plus récent au plus ancien.
history-when = Quand
history-what = Quoi
data-browse-title = Mes données : { $collection }
data-browse-intro = Vos enregistrements, du plus ancien au plus récent, avec les autorisations qui peuvent lire chacun. Cherchez et filtrez pour en trouver un.
data-search = Contient
data-from = Du
data-to = Au
data-min = Montant d'au moins
data-max = Montant d'au plus
data-filter = Afficher
data-when = Date
data-seen-by = Qui peut le lire
data-seen-none = personne
data-next = Enregistrements suivants
data-empty = Aucun enregistrement ne correspond.
data-capped = La recherche s'est arrêtée après { $n } enregistrements : resserrez les dates pour chercher plus loin.
data-yes = oui
data-no = non
data-bad-date = « { $value } » n'est pas une date pour « { $field } » : écrivez-la AAAA-MM-JJ.
data-bad-amount = « { $value } » n'est pas un montant pour « { $field } » : écrivez-le comme -20,50.
data-bad-cursor = Ce lien vers les enregistrements suivants est abîmé : repartez des premiers enregistrements.
