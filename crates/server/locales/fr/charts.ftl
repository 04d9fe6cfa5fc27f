# Les images : titres, légendes (les chiffres en une phrase), repères et tableaux.

chart-figures = Les chiffres
chart-no-data = Pas encore de données.
chart-month = Mois
chart-amount = Montant
chart-months-summary = { $total } en tout sur { $months } mois ; le plus en { $top } : { $top_amount }.

spending-title = Mes dépenses
spending-chart = Vos dépenses mois par mois, ces deux dernières années, en { $currency }
spending-partial = Seules les { $count } premières opérations de ces deux ans sont comptées.
recurring-chart = Les prélèvements qui reviennent presque tous les mois, en { $currency }
recurring-none = Aucun prélèvement ne revient presque tous les mois.
recurring-bar = { $average } par mois, { $months } mois
recurring-item = { $label } ({ $average } par mois, { $months } mois)
recurring-summary = { $count ->
    [one] Un prélèvement revient
   *[other] { $count } prélèvements reviennent
  } presque tous les mois : { $list }.
recurring-who = Payé à
recurring-months = Mois
recurring-average = En moyenne par mois

earnings-chart = Ce que vous avez gagné chaque mois, ces deux dernières années, en { $currency }

grants-pictures-title = Ce que chaque autorisation voit
grant-picture = Autorisation { $id } pour { $to } : les champs et les mois qu'elle voit, parmi tout ce que vous gardez
grant-sees = Elle voit { $what }, { $months }.
grant-sees-nothing = Elle ne voit rien de ce que vous gardez.
grant-kept = Elle ne voit pas : { $what }.
grant-whole-collection = { $collection } (tous ses champs)
grant-months-all = tous les mois
grant-months-since = depuis { $from }
grant-months-between = de { $from } à { $until }
grant-months-start = l'origine
grant-legend-shared = elle le voit
grant-legend-kept = elle ne le voit pas

timeline-title = Qui a touché à mes données, et quand
timeline-you = vous
timeline-summary = Du { $from } au { $until } : { $runs ->
    [0] aucun programme n'a tourné sur vos données
    [one] une exécution ({ $failed } en échec) par { $runners }
   *[other] { $runs } exécutions ({ $failed } en échec) par { $runners }
  } ; demandes : { $asked }, autorisations données : { $granted }, retirées : { $revoked }, imports : { $imported }.
timeline-run-ok = exécution réussie
timeline-run-failed = exécution en échec
timeline-asked = demande d'accès
timeline-granted = accès accordé
timeline-revoked = accès retiré
timeline-imported = données importées
timeline-other = autre

campaigns-chart = Les chiffres publiés de vos campagnes, par date de publication
campaigns-summary = { $count ->
    [one] Une campagne
   *[other] { $count } campagnes
  }, dont { $released } publiées.
campaign-release = Publiée le
campaign-not-released = pas encore publiée
campaign-about = environ { $count }
campaign-fewer = moins de { $count }
campaign-withheld = non montré
invoices-chart = Ce que vous avez payé chaque mois, cette dernière année, en { $currency }
