# Les pages d'une organisation, d'un développeur, d'un opérateur.

org-requests-title = Vos demandes
org-request = Demande
org-person = Personne
org-purpose = Objet
org-status = État
org-runs-title = Vos exécutions
campaigns-title = Vos actions collectives
jobs-title = Vos actions collectives et études
campaign = Action
campaign-scanned = Examinés
campaign-matched = Concernés
campaign-accepted = Ont rejoint
studies-title = Vos études
study-release = environ { $cohort } personnes, ε { $epsilon } : { $values }
study-no-release = pas encore de résultat publié
invoice-title = Facture et consommation du mois
invoice-movements = { $count ->
    [one] { $count } mouvement.
   *[other] { $count } mouvements.
  }
invoice-download = Télécharger la facture (CSV)
invoice-line = { $currency } : payé { $paid }, reçu { $received }, solde { $balance }
revenue-title = Revenus par programme
revenue-none = Rien pour l'instant.
revenue-other = autre
