# The fields of the standard collections (`insitu_formats::schema::STANDARD`), as a person reads
# them: `field-<name>`, or `field-<collection, its dots as ->-<name>` where a name means
# something else in that collection. A field no catalogue names (a CSV's own header) is shown
# as it is.

## bank.transactions
field-account = Account
field-booked = Booked on
field-value_date = Value date
field-amount = Amount
field-counterparty = Counterparty
field-label = Description
field-reference = Reference
field-balance = Balance after

## receipts.items
field-shop = Shop
field-date = Date
field-receipt = Receipt
field-product = Product
field-barcode = Barcode
field-quantity = Quantity
field-unit = Unit
field-unit_price = Unit price
field-total = Total

## purchases.products
field-recorded = Recorded on
field-declared_quantity = Quantity on the pack
field-measured_quantity = Quantity measured

## career.positions and career.education
field-company = Company
field-title = Job title
field-location = Place
field-started = Started
field-ended = Ended
field-description = Description
field-school = School
field-degree = Degree
field-notes = Notes
field-activities = Activities

## career.skills
field-skill = Skill

## profile.answers
field-answered = Answered on
field-questionnaire = Questionnaire
field-question = Question
field-answer = Answer

## usage.events
field-at = When
field-usage-events-product = Product or device used
field-activity = Activity
field-place_kind = Kind of place
field-time_of_day = Time of day
field-device = Device
field-duration_s = Duration (seconds)
