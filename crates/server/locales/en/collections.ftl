# The standard collections (`insitu_formats::schema::STANDARD`, `docs/COLLECTIONS.md`), as a
# person reads their names: `collection-<name, its dots as ->`. A collection no catalogue names
# (an organisation's own) is shown as it is.

collection-bank-transactions = Bank transactions
collection-receipts-items = Receipt lines
collection-purchases-products = Products bought and measured
collection-career-positions = Jobs held
collection-career-education = Education
collection-career-skills = Skills
collection-profile-answers = Questionnaire answers
collection-usage-events = Product usage
