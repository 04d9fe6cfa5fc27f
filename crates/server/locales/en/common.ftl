# The layout, sign-in, errors and the pages every role shares.

skip-to-content = Skip to the content
nav-label = Main
nav-home = My page
nav-home-person = My page
nav-home-organisation = Our page
nav-history = Access history
signed-in-as = Signed in as { $name }
sign-out = Sign out
language-switch = Language
language-fr = Français
language-en = English
footer = Insitu keeps your data with you: programs come to it, under your consent, and only what you allowed leaves.
back-to-my-page = Back to my page
none = None.
older = Older
accept = Accept
decline = Decline
home-page-title = My page

login-page-title = Sign in
login-title = Sign in to Insitu
login-name = Name
login-password = Password
login-submit = Sign in
login-failed = The name or the password is wrong.

error-title = Error
error-title-bad-request = This request cannot be carried out
error-title-unauthorized = Please sign in
error-title-forbidden = Not allowed
error-title-not-found = Not found
error-title-method = Not this way
error-title-conflict = Already done
error-title-too-large = Too large
error-title-too-many = Too many attempts
error-title-server = Something went wrong on our side
error-stale-form = This form is stale or did not come from Insitu. Go back, reload the page and try again.
error-internal = The server failed; nothing was changed.
error-not-found = There is nothing here for you.
error-method = This page cannot be opened this way. Go back and use its link or button.
error-login-origin = Sign in from Insitu's own page.
error-no-file = Choose a file to import.
error-erase-password = The password is wrong; nothing was deleted.
error-already-answered = You already answered.
error-not-a-finding = “{ $value }” is not a finding.
error-join-or-decline = Say whether you join or decline.
error-tick-a-finding = Tick at least one finding to share, or decline.
error-not-a-parameter = “{ $line }” is not name=value.
error-not-a-field = “{ $value }” is not collection/field.
error-not-a-number = { $name }: “{ $value }” is not a number.

status-pending = pending
status-approved = approved (grant { $grant })
status-denied = denied

run = Run
run-link = Run { $id }
run-started = Started
run-outcome = Outcome
run-records-read = Records read
run-failed-short = failed: { $reason }
run-failed-long = failed ({ $reason }): { $message }
run-result-from = result from { $when }
run-not-shown = not shown
run-status-succeeded = succeeded
run-status-failed = failed
run-status-withheld = withheld
run-outcome-label = Outcome:
run-usage = Read { $records } records; { $fuel } instructions; { $ms } ms.
run-price = Price: { $price }
run-not-billed = not billed
run-started-release = Started { $started }; its result, if it is addressed to you, can be read from { $release }.
run-persons-to-know = How the run went is the person's to know: it depends on their data.
run-output = Output
run-no-output = This run has no output for you.

role-person = person
role-organisation = organisation
role-developer = developer
role-operator = operator
role-officer = patent officer
api-home = This { $role } account works through the API; its description is at
