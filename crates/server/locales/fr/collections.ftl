# Les collections standard (`insitu_formats::schema::STANDARD`, `docs/COLLECTIONS.md`), telles
# qu'une personne lit leur nom : `collection-<nom, ses points en ->`. Une collection qu'aucun
# catalogue ne nomme (celle d'une organisation) est montrée telle quelle.

collection-bank-transactions = Opérations bancaires
collection-receipts-items = Lignes de tickets de caisse
collection-purchases-products = Produits achetés et mesurés
collection-career-positions = Postes occupés
collection-career-education = Formation
collection-career-skills = Compétences
collection-profile-answers = Réponses aux questionnaires
collection-usage-events = Utilisation des produits
