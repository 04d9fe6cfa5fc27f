# Ce que la page d’import dit d’un fichier en plus de ses comptes : ses remarques
# (`pages/notes.rs`), un message par sorte de remarque. Les noms que tient le fichier (comptes,
# clés, en-têtes, devises) sont montrés tels quels.

## OFX.
note-investment = Ligne { $line } : compte-titres { $account } : { $cash ->
    [0] aucun mouvement d’espèces n’a été importé.
    [one] son mouvement d’espèces a été importé.
   *[other] ses { $cash } mouvements d’espèces ont été importés.
}
note-investment-left = Laissé de côté : { $items }.
note-investment-trades = { $count ->
    [one] une opération sur titres
   *[other] { $count } opérations sur titres
} ({ $kinds })
note-investment-positions = { $count ->
    [one] une position
   *[other] { $count } positions
}
note-investment-open-orders = les ordres en cours
note-investment-balances = les soldes espèces et de marge
note-no-balances-unread = Compte { $account } : le solde après chaque opération reste vide, car { $count ->
    [one] une opération n’a pas pu être lue.
   *[other] { $count } opérations n’ont pas pu être lues.
}
note-no-balances-currencies = Compte { $account } : le solde après chaque opération reste vide, car les opérations sont dans plusieurs devises.
note-no-balances-amount = Compte { $account } : le solde après chaque opération reste vide, car le solde du relevé n’a pas pu être lu.
note-no-balances-date = Compte { $account } : le solde après chaque opération reste vide, car la date du solde du relevé n’a pas pu être lue.
note-no-balances-before = Compte { $account } : le solde après chaque opération reste vide, car le solde du relevé est daté du { $asof }, avant sa dernière opération ({ $last }).
note-no-balances-too-large = Compte { $account } : le solde après chaque opération reste vide, car les montants sont trop grands pour être additionnés.
note-pending = Ligne { $line } : { $count ->
    [one] une opération en attente est laissée de côté jusqu’à ce qu’elle soit comptabilisée (ligne { $lines }).
   *[other] { $count } opérations en attente sont laissées de côté jusqu’à ce qu’elles soient comptabilisées (lignes { $lines }).
}
note-repeated-key = Compte { $account } : l’opération { $key } figure { $count } fois avec le même contenu (lignes { $lines }). C’est une seule opération, importée une fois ; ligne(s) { $left } laissée(s) de côté.
note-reused-key = Compte { $account } : la banque a donné le même identifiant, { $key }, à des opérations différentes (lignes { $lines }). Chacune est importée.
note-unknown-encoding = Le fichier annonce un codage de texte qu’Insitu ne connaît pas ({ $label }) : il a été lu en UTF-8 ou Windows-1252. Vérifiez que les lettres accentuées s’affichent bien.

## CFONB et CAMT.
note-padded = { $count ->
    [one] Un enregistrement de moins de 120 caractères a été lu comme s’il était complété par des blancs (ligne { $lines }).
   *[other] { $count } enregistrements de moins de 120 caractères ont été lus comme s’ils étaient complétés par des blancs (lignes { $lines }).
}
note-unchecked-cfonb = Compte { $account } : les soldes du relevé n’ont pas été vérifiés, car { $count ->
    [one] un mouvement n’a pas pu être lu.
   *[other] { $count } mouvements n’ont pas pu être lus.
}
note-unchecked-camt = { $element } (compte { $account }) : les soldes du relevé n’ont pas été vérifiés, car { $count ->
    [one] une écriture n’a pas pu être lue.
   *[other] { $count } écritures n’ont pas pu être lues.
}
note-unbalanced-cfonb = Ligne { $line } : le relevé du compte { $account } ne tombe pas juste : { $why }. Comme vous l’avez demandé, { $count ->
    [one] son mouvement a quand même été importé
   *[other] ses { $count } mouvements ont quand même été importés
}, sans le solde après chaque opération.
note-unbalanced-camt = Ligne { $line } : { $element } (compte { $account }) ne tombe pas juste : { $why }. Comme vous l’avez demandé, { $count ->
    [one] son mouvement a quand même été importé
   *[other] ses { $count } mouvements ont quand même été importés
}, sans le solde après chaque opération.
note-imbalance-totals = le solde d’ouverture de { $opening } plus les mouvements, { $movements }, donne { $end }, mais le solde de clôture est de { $closing }
note-imbalance-too-large = les montants sont trop grands pour être additionnés
note-imbalance-currencies = { $first ->
    [balance] un solde
   *[entry] une écriture
} est en { $first_currency } et { $other ->
    [balance] un solde
   *[entry] une écriture
} en { $other_currency } : les soldes ne peuvent pas être vérifiés
note-not-booked-pending = { $count ->
    [one] Une écriture en attente (statut { $status }) n’a pas été importée : elle le sera une fois comptabilisée (ligne { $lines }).
   *[other] { $count } écritures en attente (statut { $status }) n’ont pas été importées : elles le seront une fois comptabilisées (lignes { $lines }).
}
note-not-booked-future = { $count ->
    [one] Une écriture à venir (statut { $status }) n’a pas été importée : elle le sera une fois comptabilisée (ligne { $lines }).
   *[other] { $count } écritures à venir (statut { $status }) n’ont pas été importées : elles le seront une fois comptabilisées (lignes { $lines }).
}
note-not-booked-info = { $count ->
    [one] Une écriture donnée pour information (statut { $status }) n’a pas été importée : ce n’est pas une opération comptabilisée (ligne { $lines }).
   *[other] { $count } écritures données pour information (statut { $status }) n’ont pas été importées : ce ne sont pas des opérations comptabilisées (lignes { $lines }).
}
note-not-booked-other = { $count ->
    [one] Une écriture au statut { $status } n’a pas été importée : seules les écritures comptabilisées le sont (ligne { $lines }).
   *[other] { $count } écritures au statut { $status } n’ont pas été importées : seules les écritures comptabilisées le sont (lignes { $lines }).
}

## CSV.
note-footer = { $rows ->
    [one] Une ligne de pied de tableau a été ignorée
   *[other] { $rows } lignes de pied de tableau ont été ignorées
}, comme le dit la correspondance des colonnes ({ $span ->
    [one] ligne
   *[other] lignes
} { $lines }).

## QIF.
note-skipped-section = Ligne { $line } : la section { $header } ({ $count ->
    [one] un enregistrement
   *[other] { $count } enregistrements
}) a été ignorée : { $why }.
note-section-investment = les opérations sur titres ne sont pas prises en charge
note-section-categories = les catégories ne sont pas importées
note-section-memorized = les opérations mémorisées ne sont pas importées
note-section-no-bank-transactions = elle ne contient aucune opération bancaire
note-comments = Ligne { $line } : { $count ->
    [one] une ligne de commentaire placée avant le premier en-tête a été ignorée.
   *[other] { $count } lignes de commentaire placées avant le premier en-tête ont été ignorées.
}

## Tickets de caisse.
note-rounded = { $receipt }, article { $item } : { $quantity } × { $price } font { $exact }, arrondi au plus proche pair à { $total }.

## Par rapport à ce que vous avez déjà.
note-clash = { $file }, ligne { $line } : la clé { $key } figure déjà dans vos données avec un autre contenu, venu d’un fichier précédent. Cet enregistrement a été importé comme un autre.
