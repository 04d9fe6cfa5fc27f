# Ce que dit une page d'erreur, pour chaque erreur qu'une page peut rencontrer (`pages/error.rs`).

error-detail = Détail technique (en anglais)

## Connues seulement par leur statut.
error-bad-request = Cette demande ne peut pas être faite telle qu'elle a été envoyée.
error-unauthorized = Connectez-vous pour voir cette page.
error-forbidden = Votre compte ne permet pas de faire cela.
error-timeout = Cela a pris trop de temps et a été arrêté ; rien n'a changé. Recommencez.
error-conflict = Ce n'est pas possible dans l'état actuel des choses.
error-too-large = Ce qui a été envoyé est trop volumineux.
error-bad-form = Ce formulaire n'est pas arrivé comme Insitu l'attend. Revenez en arrière, rechargez la page et recommencez.
error-too-many = Trop de demandes. Patientez un peu, puis recommencez.
error-too-many-wait = Trop de demandes. Réessayez dans { $seconds ->
    [one] une seconde
   *[other] { $seconds } secondes
}.
error-upload-too-large = Ce fichier est trop volumineux pour être importé ici.
error-bad-upload = Le fichier n'a pas pu être reçu. Choisissez-le de nouveau et renvoyez le formulaire.

## Ce qui n'existe pas (ou n'est pas à vous : la réponse est la même).
error-no-person = Aucune personne ne porte le numéro { $id }.
error-no-collection = Il n'existe pas de collection « { $name } ».
error-no-plugin = Aucun programme n'a l'empreinte { $digest }.
error-no-publisher = Aucun éditeur ne s'appelle « { $name } ».
error-no-request = Vous n'avez pas de demande n° { $id }.
error-no-grant = Vous n'avez pas d'autorisation n° { $id }.
error-no-run = Vous n'avez pas d'exécution n° { $id }.
error-no-token = La clé n° { $id } n'existe pas.
error-no-account = Le compte n° { $id } n'existe pas.
error-no-reception = Aucune organisation ne vous rend de données sous le n° { $id }.
error-no-job = L'action collective ou l'étude n° { $id } n'existe pas.
error-no-invitation = L'action collective n° { $job } ne vous a pas invité·e.
error-no-proposal = Vous n'avez pas accès à un projet n° { $id }.
error-no-pledge = Le projet n° { $proposal } n'a pas de promesse de don n° { $pledge }.

## Refusé en l'état.
error-schema-conflict = Une collection « { $name } » existe déjà avec d'autres champs, et les champs d'une collection ne changent pas. Importez dans une autre collection.
error-not-running = L'exécution n° { $id } est déjà terminée.
error-name-taken = Le nom « { $name } » est déjà pris.
error-job-closed = L'action collective ou l'étude n° { $id } est déjà close.
error-invitation-answered = Vous avez déjà répondu à l'invitation de l'action collective n° { $job }.
error-checkpoint-taken = Le point de contrôle n° { $number } a déjà été publié.
error-request-decided = Vous avez déjà répondu à la demande n° { $id } ; rien n'a changé.
error-codesign-refused = Le projet n'en est pas à une étape qui le permet ; rien n'a changé. Rechargez le projet pour voir où il en est.

## La description d'une collection.
error-schema-bad-name = « { $name } » ne peut pas nommer une collection ni un champ : utilisez des minuscules sans accent, des chiffres, « _ » et « . ».
error-schema-no-fields = La collection « { $name } » n'a aucun champ.
error-schema-duplicate-field = Le champ « { $field } » figure deux fois.
error-schema-bad-time-field = Le champ « { $field } » ne peut pas dater les enregistrements : il faut une date présente dans chacun.

## Comptes et connexion.
error-role = Le rôle de votre compte ne le permet pas.
error-scope = Votre session ne le permet pas. Déconnectez-vous, puis reconnectez-vous.
error-bad-credentials = Le nom ou le mot de passe n'est pas le bon.
error-scope-not-allowed = Un compte de ce rôle ne peut pas recevoir cette permission.
error-bad-name = Le nom « { $name } » ne peut pas être utilisé.
error-account-name-taken = Le nom « { $name } » est pris : il se lit comme celui du compte « { $existing } ».
error-weak-password = Le mot de passe doit compter au moins { $min } caractères.
error-sign-in-throttled = Trop de tentatives de connexion. Réessayez dans { $seconds ->
    [one] une seconde
   *[other] { $seconds } secondes
}.

## Demandes.
error-widening = Restreindre une demande ne peut qu'enlever, jamais ajouter à ce qui était demandé.
error-no-manifest = Le programme { $digest } ne dit pas de quelles données il a besoin.

## Imports : quand l'une de ces erreurs s'affiche, rien n'est importé.
error-import-undetected = Nous n'avons pas reconnu le type du fichier « { $file } » : rien n'a été importé.
error-import-format = « { $file } » n'est pas un fichier { $format } valable : rien n'a été importé.
error-import-format-line = La ligne { $line } de « { $file } » n'est pas du { $format } valable : rien n'a été importé.
error-import-record = L'enregistrement de la ligne { $line } de « { $file } » est illisible{ $others ->
    [0] {""}
    [one] , ainsi qu'un autre
   *[other] , ainsi que { $others } autres
} : rien n'a été importé. Corrigez le fichier, puis importez-le de nouveau.
error-import-collection = Ce fichier ne peut pas aller dans cette collection : rien n'a été importé.
error-zip-malformed = « { $file } » n'est pas une archive zip lisible : rien n'a été importé.
error-zip-path = Dans « { $file } », « { $name } » se trouve dans un dossier ; seuls les fichiers à la racine de l'archive sont importés. Rien n'a été importé.
error-zip-nested = Dans « { $file } », « { $name } » est lui-même une archive : décompressez-le d'abord. Rien n'a été importé.
error-zip-unsupported = Dans « { $file } », « { $name } » est un type de fichier qui ne s'importe pas. Rien n'a été importé.
error-zip-too-many = « { $file } » contient plus de { $max } fichiers : refusé, ce pourrait être une bombe de décompression. Rien n'a été importé.
error-zip-too-large = Décompressé, « { $file } » dépasserait { $mib } Mio : refusé, ce pourrait être une bombe de décompression. Rien n'a été importé.
error-zip-ratio = Dans « { $file } », « { $name } » décompressé ferait plus de { $ratio } fois sa taille : refusé, ce pourrait être une bombe de décompression. Rien n'a été importé.

## Actions collectives.
error-not-a-campaign = Le n° { $id } n'est pas une action collective.
error-campaign-not-finished = L'action collective n° { $id } n'est pas terminée, ou ses résultats ne sont pas encore publiés.
error-campaign-settled = L'action collective n° { $id } a déjà été réglée.
error-campaign-none-accepted = Personne n'a rejoint l'action collective n° { $id } : il n'y a personne à payer.
error-no-finding = Le constat n° { $index } n'existe pas : l'invitation en compte { $count ->
    [one] un seul
   *[other] { $count }
}.
error-amount-positive = Le montant doit être supérieur à zéro.
error-no-association = « { $name } » n'est pas le compte d'une organisation.
error-not-an-organisation = « { $name } » n'est pas le compte d'une organisation.
error-k-below-floor = Il faut au moins { $floor } membres ; { $asked } ont été demandés.
error-campaign-refused = Cette action collective ne peut pas être ouverte ni réglée de cette façon.

## Projets.
error-proposal-not-yours = Le projet n° { $id } appartient à une autre organisation.
error-text-empty = { $part ->
    [title] Le titre ne peut pas être vide.
    [description] La description ne peut pas être vide.
    [option] Une option ne peut pas être vide.
    [tier-name] Le nom d'un palier ne peut pas être vide.
    [tier-reward] La contrepartie d'un palier ne peut pas être vide.
    [reasons] Les raisons ne peuvent pas être vides.
    [text] Le texte ne peut pas être vide.
    [sign-as] Le nom sous lequel signer ne peut pas être vide.
   *[other] Ce texte ne peut pas être vide.
}
error-text-too-long = { $part ->
    [title] Le titre
    [description] La description
    [option] Une option
    [tier-name] Le nom d'un palier
    [tier-reward] La contrepartie d'un palier
    [reasons] Le texte des raisons
    [text] Le texte
    [sign-as] Le nom sous lequel signer
   *[other] Ce texte
} compte { $len } caractères ; { $max } au plus sont permis.
error-too-many-items = { $part ->
    [options] Pas plus de { $max } options
    [tiers] Pas plus de { $max } paliers de contreparties
    [studies] Pas plus de { $max } études
   *[other] Pas plus de { $max } éléments
} ; il y en a { $n }.
error-goal = L'objectif de financement doit être un montant supérieur à zéro, d'au plus 10 000 000 000,00, dans une devise de trois lettres comme EUR.
error-tier = Le palier « { $name } » doit demander plus que le palier précédent (les paliers vont de la plus petite promesse à la plus grande).
error-deadline-passed = La date limite est déjà passée.
error-deadline-too-far = La date limite est à plus de deux ans.

## Où en est un projet.
error-contest-name = « { $name } » ne peut pas nommer une mise en concurrence : de 1 à 64 lettres, chiffres, « - » ou « _ ».
error-not-your-study = L'étude n° { $study } n'est pas l'une des vôtres : le projet ne peut pas s'en réclamer.
error-proposal-settled = Le projet n° { $id } a été réglé à sa date limite ; il ne peut plus changer.
error-proposal-rejected = L'officier des brevets a refusé le projet n° { $id } : proposez-en un nouveau.
error-proposal-unchanged = La nouvelle version est identique à l'actuelle ; rien n'a changé.
error-options-voted = Des membres ont déjà voté sur les options du projet n° { $id } : elles ne peuvent plus changer. Proposez plutôt un nouveau projet.
error-not-in-review = Le projet n° { $id } n'attend pas d'examen.
error-review-stale = Le projet n° { $id } a changé depuis que vous avez lu sa version { $read } : il en est à la version { $now }. Relisez-le avant de décider.
error-not-a-choice-of = Le choix n° { $choice } ne fait pas partie de ce vote.
error-no-version = Le projet n° { $id } n'a pas de version { $version }.
error-no-commitment = Le journal d'audit ne contient aucun engagement sur la version { $version } du projet n° { $id }.
error-proof-altered = Cette preuve ne correspond pas à son engagement : le texte a été modifié.
error-proof-entry = L'entrée n° { $seq } du journal d'audit n'enregistre pas cet engagement.
error-chain = Le journal d'audit ne se vérifie pas : on ne peut rien prouver à partir de lui.
