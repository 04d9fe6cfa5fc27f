# What an error page says, for each error a page can meet (`pages/error.rs`).

error-detail = Technical detail (in English)

## Known only by their status.
error-bad-request = This request cannot be carried out as it was sent.
error-unauthorized = Sign in to see this page.
error-forbidden = Your account cannot do this.
error-timeout = This took too long and was stopped; nothing was changed. Try again.
error-conflict = This cannot be done in its current state.
error-too-large = What was sent is too large.
error-bad-form = This form was not sent as Insitu expects. Go back, reload the page and try again.
error-too-many = Too many requests. Wait a moment, then try again.
error-too-many-wait = Too many requests. Try again in { $seconds ->
    [one] one second
   *[other] { $seconds } seconds
}.
error-upload-too-large = This file is too large to import here.
error-bad-upload = The file could not be received. Choose it again and send the form once more.

## What does not exist (or is not yours: the same answer).
error-no-person = There is no person { $id }.
error-no-collection = There is no collection named “{ $name }”.
error-no-plugin = There is no program with the fingerprint { $digest }.
error-no-publisher = There is no publisher named “{ $name }”.
error-no-request = There is no request { $id } for you.
error-no-grant = There is no grant { $id } for you.
error-no-run = There is no run { $id } for you.
error-no-token = There is no key { $id }.
error-no-account = There is no account { $id }.
error-no-reception = There is no return of data { $id } for you.
error-no-job = There is no campaign or study { $id }.
error-no-invitation = You have no invitation from campaign { $job }.
error-no-proposal = There is no proposal { $id } for you.
error-no-pledge = There is no pledge { $pledge } on proposal { $proposal }.

## Refused in its current state.
error-schema-conflict = A collection named “{ $name }” already exists with other fields, and a collection's fields cannot change. Import into another collection.
error-not-running = Run { $id } is not running any more.
error-name-taken = The name “{ $name }” is already taken.
error-job-closed = Campaign or study { $id } is already closed.
error-invitation-answered = You already answered the invitation from campaign { $job }.
error-checkpoint-taken = Checkpoint { $number } was already published.
error-request-decided = Request { $id } was already answered; nothing was changed.
error-codesign-refused = This step is not possible where the proposal stands now; nothing was changed. Reload the proposal to see where it is.

## A collection's description.
error-schema-bad-name = “{ $name }” cannot name a collection or a field: use lower-case letters, digits, “_” and “.”.
error-schema-no-fields = Collection “{ $name }” has no fields.
error-schema-duplicate-field = Field “{ $field }” appears twice.
error-schema-bad-time-field = Field “{ $field }” cannot date the records: it must be a date that every record has.

## Accounts and sign-in.
error-role = Your account's role does not allow this.
error-scope = Your session does not allow this. Sign out and sign in again.
error-bad-credentials = The name or the password is wrong.
error-scope-not-allowed = An account of this role cannot be given this permission.
error-bad-name = The name “{ $name }” cannot be used.
error-account-name-taken = The name “{ $name }” is taken: it reads like the existing account “{ $existing }”.
error-weak-password = The password needs at least { $min } characters.
error-sign-in-throttled = Too many sign-in attempts. Try again in { $seconds ->
    [one] one second
   *[other] { $seconds } seconds
}.

## Requests.
error-widening = Narrowing can only take something away, never add to what was asked.
error-no-manifest = The program { $digest } describes no data to ask for.

## Imports: nothing is imported when one of these is said.
error-import-undetected = We could not tell what kind of file “{ $file }” is, so nothing was imported.
error-import-format = “{ $file }” is not a valid { $format } file, so nothing was imported.
error-import-format-line = Line { $line } of “{ $file }” is not valid { $format }, so nothing was imported.
error-import-record = The record at line { $line } of “{ $file }” cannot be read{ $others ->
    [0] {""}
    [one] , nor can one other
   *[other] , nor can { $others } others
}, so nothing was imported. Correct the file and import it again.
error-import-collection = This file cannot go into that collection, so nothing was imported.
error-zip-malformed = “{ $file }” is not a zip archive that can be read, so nothing was imported.
error-zip-path = In “{ $file }”, “{ $name }” is inside a folder: only files at the top of the archive are imported. Nothing was imported.
error-zip-nested = In “{ $file }”, “{ $name }” is itself an archive: unzip it first. Nothing was imported.
error-zip-unsupported = In “{ $file }”, “{ $name }” is a kind of file that is not imported. Nothing was imported.
error-zip-too-many = “{ $file }” holds more than { $max } files: refused, as it could be a zip bomb. Nothing was imported.
error-zip-too-large = “{ $file }” unpacks to more than { $mib } MiB: refused, as it could be a zip bomb. Nothing was imported.
error-zip-ratio = In “{ $file }”, “{ $name }” unpacks to more than { $ratio } times its size: refused, as it could be a zip bomb. Nothing was imported.

## Campaigns.
error-not-a-campaign = Number { $id } is not a campaign.
error-campaign-not-finished = Campaign { $id } has not finished, or its results are not out yet.
error-campaign-settled = Campaign { $id } was already settled.
error-campaign-none-accepted = Nobody joined campaign { $id }, so there is nobody to pay.
error-no-finding = There is no finding { $index }: the invitation has { $count ->
    [one] one finding
   *[other] { $count } findings
}.
error-amount-positive = The amount must be more than zero.
error-no-association = “{ $name }” is not an organisation's account.
error-not-an-organisation = “{ $name }” is not an organisation's account.
error-k-below-floor = At least { $floor } members are needed; { $asked } were asked for.
error-campaign-refused = This campaign cannot be opened or settled this way.

## Proposals.
error-proposal-not-yours = Proposal { $id } belongs to another organisation.
error-text-empty = { $part ->
    [title] The title
    [description] The description
    [option] An option
    [tier-name] A tier's name
    [tier-reward] A tier's reward
    [reasons] The reasons
    [text] The text
    [sign-as] The name to sign with
   *[other] This text
} must not be empty.
error-text-too-long = { $part ->
    [title] The title
    [description] The description
    [option] An option
    [tier-name] A tier's name
    [tier-reward] A tier's reward
    [reasons] The reasons
    [text] The text
    [sign-as] The name to sign with
   *[other] This text
} has { $len } characters; at most { $max } are allowed.
error-too-many-items = { $part ->
    [options] At most { $max } options
    [tiers] At most { $max } reward tiers
    [studies] At most { $max } studies
   *[other] At most { $max }
} can be given; there are { $n }.
error-goal = The funding goal must be an amount above zero, at most 10,000,000,000.00, in a three-letter currency such as EUR.
error-tier = Reward tier “{ $name }” must ask for more than the tier before it (tiers go from the smallest pledge up).
error-deadline-passed = The deadline has already passed.
error-deadline-too-far = The deadline is more than two years away.

## Where a proposal stands.
error-contest-name = “{ $name }” cannot name a contest: use 1 to 64 letters, digits, “-” or “_”.
error-not-your-study = Study { $study } is not one of your studies, so the proposal cannot cite it.
error-proposal-settled = Proposal { $id } was settled at its deadline; it cannot change any more.
error-proposal-rejected = The patent officer rejected proposal { $id }: submit a new one.
error-proposal-unchanged = The new version is the same as the current one; nothing was changed.
error-options-voted = Members have already voted on the options of proposal { $id }, so they cannot change now. Submit a new proposal instead.
error-not-in-review = Proposal { $id } is not waiting for a review.
error-review-stale = Proposal { $id } changed after you read version { $read }: it is at version { $now } now. Read it again before deciding.
error-not-a-choice-of = Choice { $choice } is not one of this vote's choices.
error-no-version = Proposal { $id } has no version { $version }.
error-no-commitment = The audit log holds no commitment to version { $version } of proposal { $id }.
error-proof-altered = This proof does not match its commitment: the text was changed.
error-proof-entry = Entry { $seq } of the audit log does not record this commitment.
error-chain = The audit log does not verify, so nothing can be proved from it.
