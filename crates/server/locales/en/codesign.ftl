# Co-design: proposals, contributions, votes, pledges and the patent officer's reviews.

nav-proposals = Product proposals
nav-org-proposals = Our proposals
nav-reviews = Review queue
nav-all-proposals = Proposals

proposals-title = Product proposals
proposals-intro = Companies propose products built on the studies you took part in. Comment, suggest an option, vote and back the ones you want. The company sees your comments under a pseudonym unless you sign them, your votes only as counts, and never who pledged.
all-proposals-title = Every proposal
org-proposals-title = Your product proposals
org-proposals-new = Submit a proposal
reviews-queue-title = Proposals waiting for a review
proposal-title = Proposal
proposal-organisation = Organisation
proposal-status = Status
proposal-funding = Pledged / goal
proposal-by = By { $organisation } · { $status } · version { $version }
proposal-contest = Competes in “{ $contest }”.
proposal-studies = Built on the studies { $studies }.
proposal-goal = Goal: { $goal }, until { $deadline }.
proposal-tier = { $name }: from { $min }, { $reward }
proposal-status-in-review = waiting for the patent officer
proposal-status-changes-requested = changes requested
proposal-status-rejected = rejected
proposal-status-public = open
proposal-status-funded = funded
proposal-status-unfunded = not funded, refunded

ballot-choice = Option
ballot-votes = Votes
ballot-mine = (your vote)
count-about = about { $count }
count-fewer-than = fewer than { $k }
count-withheld = shown when voting closes

funding-pledged = Pledged: { $pledged } of { $goal } ({ $count ->
    [one] { $count } pledge
   *[other] { $count } pledges
  }).
settlement-funded = Funded: { $held } held, { $paid } paid to the company, { $commission } commission, on { $when }.
settlement-refunded = Not funded: { $held } refunded to the cent, on { $when }.
settlement-rewards = { $tier }: { $count ->
    [one] { $count } reward
   *[other] { $count } rewards
  }

my-pledges-title = Your pledges
my-pledge = { $amount }, { $status }, to version { $version }
pledge-held = held in escrow
pledge-withdrawn = withdrawn and refunded
pledge-paid = paid
pledge-refunded = refunded
pledge-changed-since = The proposal changed since you pledged: you may withdraw.
pledge-withdraw = Withdraw my pledge
pledge-amount = Amount to pledge ({ $currency })
pledge-submit = Pledge

vote-legend = Your vote
vote-submit = Vote

contributions-title = Comments and suggestions
contribution-comment = comment
contribution-comment-signed = signed comment
contribution-suggestion = suggestion
contribution-suggestion-signed = signed suggestion
contribution-version = on version { $version }
contribution-commitment = Recorded as { $commitment }
contribute-legend = Comment or suggest an option
contribute-comment = A comment
contribute-suggestion = A suggestion
contribute-text = Your text
contribute-sign = Sign with my name
contribute-name = Name to sign with
contribute-pseudonym = Unless you sign, the company sees a pseudonym for you on this proposal only.
contribute-submit = Send

versions-title = Versions
version = Version
version-when = Submitted
version-commitment = Commitment in the audit chain
reviews-title = The patent officer's reviews
review-line = Version { $version }: { $decision }, by { $officer } on { $when }
review-approve = approve
review-request-changes = ask for changes
review-reject = reject
review-legend = Decision
review-reasons = Reasons (the proposer reads them)
review-submit = Record the decision
votes-title = Votes and funding
new-version-title = Submit a new version

form-title = Title
form-description = Description
form-options = Options to vote on, one a line
form-studies = Studies it builds on (their numbers)
form-goal = Funding goal (amount and currency)
form-deadline = Deadline
form-tiers = Reward tiers, one a line: name; minimum pledge; reward
form-contest = Contest (proposals with the same contest compete)
form-submit = Submit to the patent officer
form-submit-version = Submit this version

error-not-an-amount = “{ $value }” is not an amount in the proposal's currency.
error-not-a-study = “{ $value }” is not a study's number.
error-not-a-tier = “{ $value }” is not a tier: write name; minimum pledge; reward.
error-not-a-date = “{ $value }” is not a date.
error-not-a-decision = “{ $value }” is not a decision.
error-not-a-choice = “{ $value }” is not one of the options.
contest-title = Competing proposals: { $contest }
contest-legend = Which of these proposals do you prefer?
