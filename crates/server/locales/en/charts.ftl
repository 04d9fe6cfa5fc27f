# The pictures: their titles, captions (the figures in a sentence), legends and tables.

chart-figures = The figures
chart-no-data = No data yet.
chart-month = Month
chart-amount = Amount
chart-months-summary = { $total } in all over { $months } months; the most in { $top }: { $top_amount }.

spending-title = What I spend
spending-chart = Spending by month over the last two years, in { $currency }
spending-partial = Only the first { $count } transactions of these two years are counted.
recurring-chart = Charges that come back most months, in { $currency }
recurring-none = No charge comes back most months.
recurring-bar = { $average } a month, { $months ->
    [one] { $months } month
   *[other] { $months } months
  }
recurring-item = { $label } ({ $average } a month, { $months ->
    [one] { $months } month
   *[other] { $months } months
  })
recurring-summary = { $count ->
    [one] One charge comes back
   *[other] { $count } charges come back
  } most months: { $list }.
recurring-who = Paid to
recurring-months = Months
recurring-average = Average a month

earnings-chart = What I earned each month over the last two years, in { $currency }

grants-pictures-title = What each grant can see
grant-picture = Grant { $id } to { $to }: the fields and months it can see, against all you keep
grant-sees = Can see { $what }, { $months }.
grant-sees-nothing = Can see none of the data you keep.
grant-kept = Kept from it: { $what }.
grant-whole-collection = { $collection } (all its fields)
grant-months-all = all months
grant-months-since = from { $from }
grant-months-between = from { $from } to { $until }
grant-months-start = the start
grant-legend-shared = it can see
grant-legend-kept = kept from it

timeline-title = Who touched my data, and when
timeline-you = you
timeline-summary = From { $from } to { $until }: { $runs ->
    [0] no program ran on your data
    [one] one run ({ $failed } failed) by { $runners }
   *[other] { $runs } runs ({ $failed } failed) by { $runners }
  }; requests: { $asked }, grants given: { $granted }, revoked: { $revoked }, imports: { $imported }.
timeline-run-ok = run, succeeded
timeline-run-failed = run, failed
timeline-asked = asked for access
timeline-granted = access given
timeline-revoked = access revoked
timeline-imported = data imported
timeline-other = other

campaigns-chart = Your campaigns' released counts, by release date
campaigns-summary = { $count ->
    [one] One campaign
   *[other] { $count } campaigns
  }, { $released } released.
campaign-release = Released on
campaign-not-released = not released yet
campaign-about = about { $count }
campaign-fewer = fewer than { $count }
campaign-withheld = not shown
invoices-chart = What you paid each month over the last year, in { $currency }
