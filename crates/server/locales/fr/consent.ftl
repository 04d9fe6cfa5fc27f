# L'écran de consentement, écrit pour la personne qui décide, pas pour un juriste.

consent-page-title = Demande d'accès
consent-title = { $requester } aimerait utiliser certaines de vos données
consent-who = Qui demande ?
consent-program = Pour cela, elle ferait tourner chez vous le programme { $program } (version { $version }), publié par { $publisher }, qui se présente ainsi :
consent-what-for = Pour quoi faire ?
consent-how-long = Pour combien de temps ?
consent-days = { $days ->
    [one] Un jour
   *[other] { $days } jours
  } au plus. Vous pouvez arrêter quand vous voulez depuis votre page.
consent-reads = Ce que le programme lirait
consent-reads-line = { $collection } : { $fields } (pourquoi : { $why })
consent-what-comes-out = Ce qui sortirait, et pour qui
output-findings = des constats
output-metrics = des chiffres
output-table = un tableau
consent-out-person = Seulement vous : { $kind }, { $items } éléments au plus. Personne d'autre ne les voit.
consent-out-requester = { $requester } recevrait { $kind }, { $items } éléments au plus. Vos données elles-mêmes ne quittent jamais votre espace.
consent-out-aggregate = { $requester } recevrait { $kind }, { $items } éléments au plus, mais uniquement mélangés à ceux d'au moins { $cohort } personnes : jamais les vôtres seules.
consent-who-pays = Qui paie ?
consent-pays = C'est { $requester } qui paie : { $per_run } à chaque passage, plus { $per_million_fuel } par million d'instructions et { $per_thousand_records } par millier d'enregistrements prévus, même s'il en utilise moins. Vous ne payez rien.
consent-status = Où en est la demande ?
consent-narrow-title = Avant d'accepter, vous pouvez en donner moins
consent-fields-legend = { $collection } : décochez ce que vous gardez pour vous ; le programme ne reçoit que les champs cochés, { $dates }
consent-record-dates = et la date de chaque enregistrement
consent-months = Combien de mois d'historique
consent-days-label = Combien de jours dure l'accès
consent-approve = J'accepte
consent-deny = Je refuse
