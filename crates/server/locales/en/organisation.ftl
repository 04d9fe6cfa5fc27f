# An organisation's, a developer's and an operator's pages.

org-requests-title = Your requests
org-request = Request
org-person = Person
org-purpose = Purpose
org-status = Status
org-runs-title = Your runs
campaigns-title = Your campaigns
jobs-title = Your campaigns and studies
campaign = Campaign
campaign-scanned = Scanned
campaign-matched = Matched
campaign-accepted = Accepted
studies-title = Your studies
study-release = cohort about { $cohort }, ε { $epsilon }: { $values }
study-no-release = no release
invoice-title = Invoice and usage, this month
invoice-movements = { $count ->
    [one] { $count } movement.
   *[other] { $count } movements.
  }
invoice-download = Download the invoice (CSV)
invoice-line = { $currency }: paid { $paid }, received { $received }, balance { $balance }
revenue-title = Revenue per plugin
revenue-none = None yet.
revenue-other = other
