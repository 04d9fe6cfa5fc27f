# Co-conception : propositions, contributions, votes, promesses de don et revues de l'officier des brevets.

nav-proposals = Projets de produits
nav-org-proposals = Nos projets
nav-reviews = Projets à examiner
nav-all-proposals = Projets

proposals-title = Projets de produits
proposals-intro = Des entreprises proposent des produits fondés sur les études auxquelles vous avez participé. Commentez, suggérez une option, votez et soutenez ceux que vous voulez voir naître. L'entreprise voit vos commentaires sous un pseudonyme, sauf si vous les signez, vos votes seulement en nombres, et jamais qui a soutenu.
all-proposals-title = Tous les projets
org-proposals-title = Vos projets de produits
org-proposals-new = Proposer un projet
reviews-queue-title = Projets qui attendent votre examen
proposal-title = Projet
proposal-organisation = Organisation
proposal-status = État
proposal-funding = Promis / objectif
proposal-by = Par { $organisation } · { $status } · version { $version }
proposal-contest = En concurrence dans « { $contest } ».
proposal-studies = Fondé sur les études { $studies }.
proposal-goal = Objectif : { $goal }, jusqu'au { $deadline }.
proposal-tier = { $name } : à partir de { $min }, { $reward }
proposal-status-in-review = en attente de l'officier des brevets
proposal-status-changes-requested = modifications demandées
proposal-status-rejected = refusé
proposal-status-public = ouvert
proposal-status-funded = financé
proposal-status-unfunded = non financé, remboursé

ballot-choice = Option
ballot-votes = Voix
ballot-mine = (votre vote)
count-about = environ { $count }
count-fewer-than = moins de { $k }
count-withheld = affiché à la clôture du vote

funding-pledged = Promis : { $pledged } sur { $goal } ({ $count ->
    [one] { $count } promesse
   *[other] { $count } promesses
  }).
settlement-funded = Financé : { $held } en séquestre, { $paid } versés à l'entreprise, { $commission } de commission, le { $when }.
settlement-refunded = Non financé : { $held } remboursés au centime près, le { $when }.
settlement-rewards = { $tier } : { $count ->
    [one] { $count } contrepartie
   *[other] { $count } contreparties
  }

my-pledges-title = Vos promesses de don
my-pledge = { $amount }, { $status }, pour la version { $version }
pledge-held = en séquestre
pledge-withdrawn = retirée et remboursée
pledge-paid = versée
pledge-refunded = remboursée
pledge-changed-since = Le projet a changé depuis votre promesse : vous pouvez la retirer.
pledge-withdraw = Retirer ma promesse
pledge-amount = Montant à promettre ({ $currency })
pledge-submit = Promettre

vote-legend = Votre vote
vote-submit = Voter

contributions-title = Commentaires et suggestions
contribution-comment = commentaire
contribution-comment-signed = commentaire signé
contribution-suggestion = suggestion
contribution-suggestion-signed = suggestion signée
contribution-version = sur la version { $version }
contribution-commitment = Enregistrée sous l'empreinte { $commitment }
contribute-legend = Commenter ou suggérer une option
contribute-comment = Un commentaire
contribute-suggestion = Une suggestion
contribute-text = Votre texte
contribute-sign = Signer de mon nom
contribute-name = Nom à afficher
contribute-pseudonym = Si vous ne signez pas, l'entreprise vous voit sous un pseudonyme propre à ce projet.
contribute-submit = Envoyer

versions-title = Versions
version = Version
version-when = Déposée le
version-commitment = Empreinte dans le journal d'audit
reviews-title = Les avis de l'officier des brevets
review-line = Version { $version } : { $decision }, par { $officer } le { $when }
review-approve = approuver
review-request-changes = demander des modifications
review-reject = refuser
review-legend = Décision
review-reasons = Motifs (l'auteur du projet les lira)
review-submit = Enregistrer la décision
votes-title = Votes et financement
new-version-title = Déposer une nouvelle version

form-title = Titre
form-description = Description
form-options = Options soumises au vote, une par ligne
form-studies = Études sur lesquelles il s'appuie (leurs numéros)
form-goal = Objectif de financement (montant et devise)
form-deadline = Date limite
form-tiers = Paliers de contreparties, un par ligne : nom ; promesse minimale ; contrepartie
form-contest = Concours (les projets d'un même concours sont en concurrence)
form-submit = Soumettre à l'officier des brevets
form-submit-version = Déposer cette version

error-not-an-amount = « { $value } » n'est pas un montant dans la devise du projet.
error-not-a-study = « { $value } » n'est pas un numéro d'étude.
error-not-a-tier = « { $value } » n'est pas un palier : écrivez nom ; promesse minimale ; contrepartie.
error-not-a-date = « { $value } » n'est pas une date.
error-not-a-decision = « { $value } » n'est pas une décision.
error-not-a-choice = « { $value } » n'est pas l'une des options.
contest-title = Propositions en concurrence : { $contest }
contest-legend = Laquelle de ces propositions préférez-vous ?
