# Les champs des collections standard (`insitu_formats::schema::STANDARD`), tels qu'une personne
# les lit : `field-<nom>`, ou `field-<collection, ses points en ->-<nom>` quand un nom veut dire
# autre chose dans cette collection. Un champ qu'aucun catalogue ne nomme (l'en-tête d'un CSV)
# s'affiche tel quel.

## bank.transactions
field-account = Compte
field-booked = Date d'opération
field-value_date = Date de valeur
field-amount = Montant
field-counterparty = Tiers
field-label = Libellé
field-reference = Référence
field-balance = Solde après l'opération

## receipts.items
field-shop = Magasin
field-date = Date
field-receipt = Ticket
field-product = Produit
field-barcode = Code-barres
field-quantity = Quantité
field-unit = Unité
field-unit_price = Prix unitaire
field-total = Total

## purchases.products
field-recorded = Relevé le
field-declared_quantity = Quantité annoncée sur l'emballage
field-measured_quantity = Quantité mesurée

## career.positions et career.education
field-company = Entreprise
field-title = Intitulé du poste
field-location = Lieu
field-started = Début
field-ended = Fin
field-description = Description
field-school = Établissement
field-degree = Diplôme
field-notes = Remarques
field-activities = Activités

## career.skills
field-skill = Compétence

## profile.answers
field-answered = Répondu le
field-questionnaire = Questionnaire
field-question = Question
field-answer = Réponse

## usage.events
field-at = Quand
field-usage-events-product = Produit ou appareil utilisé
field-activity = Activité
field-place_kind = Type de lieu
field-time_of_day = Moment de la journée
field-device = Appareil
field-duration_s = Durée (secondes)
