# A person's page, the access history, import, erasure.

person-title = My data
data-title = What I keep here
data-collection = Collection
data-records = Records
import-legend = Import a file (bank statement, receipts, export)
import-file = File
import-collection = Collection (for CSV or JSON Lines)
import-submit = Import
imported-title = Imported
imported-report = { $file } ({ $format }) into { $collection }: { $read ->
    [one] { $read } record read
   *[other] { $read } records read
  }, { $added } added, { $duplicates } already there.
imported-duplicate-lines = Already there: line(s) { $lines }.

requests-title = Requests waiting for you
request-line = { $requester } asks for access for { $days ->
    [one] { $days } day
   *[other] { $days } days
  }: { $purpose }

invitations-title = Campaign invitations
invitation-title = { $association } against { $brand }
invitation-text = { $description }: your data shows this happened to you too. Join?
invitation-joined = You joined and shared { $count ->
    [one] { $count } finding
   *[other] { $count } findings
  }.
invitation-declined = You declined.
invitation-legend = What to share with { $association } if you join (only you see this list)
finding-line = { $date }, rule { $rule }: { $label }, amount { $amount }, loss { $loss }. { $reason }
finding-cites = the records it cites (not shared)
finding-record = { $collection }, record of { $date }: { $fields }
invitation-join = Join and share the ticked findings

contacts-title = People to talk with
contact-asked = asked
contact-connected = connected
contact-declined = declined
contact-role-mentor = mentor
contact-role-mentee = mentee
contact-name-hidden = (their name is shown once you both accept)

earnings-title = My earnings
earnings-nothing = Nothing yet.
earnings-balance = Balance: { $amount }
earnings-date = Date
earnings-amount = Amount
earnings-for = For

grants-title = My grants
grants-grant = Grant
grants-to = To
grants-data = Data
grants-expires = Expires
grants-actions = Actions
grant-revoked = revoked
grant-expired = expired
grant-never = never
grant-to-you = you
grant-revoke = Revoke grant { $id }
grant-params = Parameters, one per line
grant-run = Run under grant { $id }

runs-on-my-data = Runs on my data
returns-title = Data organisations may return to me
return-line = { $organisation } into { $collection }
return-line-withdrawn = { $organisation } into { $collection } (withdrawn)

rights-title = My rights
rights-export = Download all my data
rights-export-what = (one archive: JSON Lines and CSV, with my grants and my access history).
erase-legend = Delete my account and all my data
erase-password = Password
erase-submit = Delete everything
erased-page-title = Deleted
erased-title = Your account is deleted
erased-text = Your records, runs and outputs are gone and your grants are revoked. The audit log keeps only a tombstone with counts.

history-title = My access history
history-intro = Everything that touched your data, newest first.
history-when = When
history-what = What
data-browse-title = My records: { $collection }
data-browse-intro = Your records, oldest first, with the grants that can read each one. Search and filter to find one.
data-search = Contains
data-from = From
data-to = To
data-min = Amount at least
data-max = Amount at most
data-filter = Show
data-when = Date
data-seen-by = Who can read it
data-seen-none = nobody
data-next = Next records
data-empty = No record matches.
data-capped = The search stopped after { $n } records: narrow the dates to look further.
data-yes = yes
data-no = no
data-bad-date = “{ $value }” is not a date for “{ $field }”: write it as YYYY-MM-DD.
data-bad-amount = “{ $value }” is not an amount for “{ $field }”: write it like -20.50.
data-bad-cursor = This link to the next records is damaged: start again from the first records.
