# The consent screen: written for the person who decides, not for a lawyer.

consent-page-title = Request
consent-title = { $requester } asks for access to your data
consent-who = Who asks:
consent-program = It would run the program { $program } { $version }, published by { $publisher }, in your store:
consent-what-for = For what:
consent-how-long = For how long:
consent-days = { $days ->
    [one] { $days } day
   *[other] { $days } days
  } at most; you can revoke it from your page at any time.
consent-reads = What the program reads:
consent-reads-line = { $collection }: { $fields } (why: { $why })
consent-what-comes-out = What comes out, and to whom:
output-findings = findings
output-metrics = figures
output-table = a table
consent-out-person = { $kind }, at most { $items } items, to you alone. Nobody else sees them.
consent-out-requester = { $kind }, at most { $items } items, to { $requester }. Your data itself never leaves.
consent-out-aggregate = { $kind }, at most { $items } items, to { $requester }, only combined over at least { $cohort } people, never yours alone.
consent-who-pays = Who pays:
consent-pays = { $requester } pays { $per_run } per run, { $per_million_fuel } per million instructions and { $per_thousand_records } per thousand records of the run's declared budget, whatever it uses. You pay nothing.
consent-status = Status:
consent-narrow-title = Narrow it down before you approve
consent-fields-legend = { $collection }: untick what you keep to yourself; the program gets the fields you keep, { $dates }
consent-record-dates = and the date of each record
consent-months = Months of history
consent-days-label = Days the access lasts
consent-approve = Approve
consent-deny = Deny
