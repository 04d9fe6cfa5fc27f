# What the import page says of a file besides its counts: its notes (`pages/notes.rs`), one
# message per kind of note. Names the file holds (accounts, keys, headers, currencies) are
# shown as they are.

## OFX.
note-investment = Line { $line }: investment account { $account }: { $cash ->
    [0] no cash movement was imported.
    [one] its one cash movement was imported.
   *[other] its { $cash } cash movements were imported.
}
note-investment-left = Left out: { $items }.
note-investment-trades = { $count ->
    [one] one investment transaction
   *[other] { $count } investment transactions
} ({ $kinds })
note-investment-positions = { $count ->
    [one] one position
   *[other] { $count } positions
}
note-investment-open-orders = open orders
note-investment-balances = the cash and margin balances
note-no-balances-unread = Account { $account }: the balance after each transaction is left empty, as { $count ->
    [one] one transaction
   *[other] { $count } transactions
} could not be read.
note-no-balances-currencies = Account { $account }: the balance after each transaction is left empty, as the transactions are in several currencies.
note-no-balances-amount = Account { $account }: the balance after each transaction is left empty, as the statement’s balance could not be read.
note-no-balances-date = Account { $account }: the balance after each transaction is left empty, as the date of the statement’s balance could not be read.
note-no-balances-before = Account { $account }: the balance after each transaction is left empty, as the statement’s balance is dated { $asof }, before its last transaction ({ $last }).
note-no-balances-too-large = Account { $account }: the balance after each transaction is left empty, as the amounts are too large to add up.
note-pending = Line { $line }: { $count ->
    [one] one pending transaction is left out until it is booked (line { $lines }).
   *[other] { $count } pending transactions are left out until they are booked (lines { $lines }).
}
note-repeated-key = Account { $account }: transaction { $key } is listed { $count } times with the same content (lines { $lines }). It is one transaction, imported once; line(s) { $left } left out.
note-reused-key = Account { $account }: the bank gave the same identifier, { $key }, to different transactions (lines { $lines }). Each of them is imported.
note-unknown-encoding = The file names a text encoding Insitu does not know ({ $label }): it was read as UTF-8 or Windows-1252. Check that accented letters look right.

## CFONB and CAMT.
note-padded = { $count ->
    [one] One record shorter than 120 characters was read as if padded with blanks (line { $lines }).
   *[other] { $count } records shorter than 120 characters were read as if padded with blanks (lines { $lines }).
}
note-unchecked-cfonb = Account { $account }: the statement’s balances were not checked, as { $count ->
    [one] one movement
   *[other] { $count } movements
} could not be read.
note-unchecked-camt = { $element } (account { $account }): the statement’s balances were not checked, as { $count ->
    [one] one entry
   *[other] { $count } entries
} could not be read.
note-unbalanced-cfonb = Line { $line }: the statement of account { $account } does not add up: { $why }. As you asked, its { $count ->
    [one] one movement was
   *[other] { $count } movements were
} imported anyway, without the balance after each one.
note-unbalanced-camt = Line { $line }: { $element } (account { $account }) does not add up: { $why }. As you asked, its { $count ->
    [one] one movement was
   *[other] { $count } movements were
} imported anyway, without the balance after each one.
note-imbalance-totals = the opening balance { $opening } plus the movements, { $movements }, gives { $end }, but the closing balance is { $closing }
note-imbalance-too-large = the amounts are too large to add up
note-imbalance-currencies = { $first ->
    [balance] a balance
   *[entry] an entry
} is in { $first_currency } and { $other ->
    [balance] a balance
   *[entry] an entry
} in { $other_currency }, so the balances cannot be checked
note-not-booked-pending = { $count ->
    [one] One pending entry (status { $status }) was not imported: it will be once booked (line { $lines }).
   *[other] { $count } pending entries (status { $status }) were not imported: they will be once booked (lines { $lines }).
}
note-not-booked-future = { $count ->
    [one] One future entry (status { $status }) was not imported: it will be once booked (line { $lines }).
   *[other] { $count } future entries (status { $status }) were not imported: they will be once booked (lines { $lines }).
}
note-not-booked-info = { $count ->
    [one] One entry given for information (status { $status }) was not imported: it is not a booking (line { $lines }).
   *[other] { $count } entries given for information (status { $status }) were not imported: they are not bookings (lines { $lines }).
}
note-not-booked-other = { $count ->
    [one] One entry of status { $status } was not imported: only booked entries are (line { $lines }).
   *[other] { $count } entries of status { $status } were not imported: only booked entries are (lines { $lines }).
}

## CSV.
note-footer = { $rows ->
    [one] One footer row was
   *[other] { $rows } footer rows were
} skipped, as the mapping says ({ $span ->
    [one] line
   *[other] lines
} { $lines }).

## QIF.
note-skipped-section = Line { $line }: the section { $header } ({ $count ->
    [one] one record
   *[other] { $count } records
}) was skipped: { $why }.
note-section-investment = investment transactions are not supported
note-section-categories = categories are not imported
note-section-memorized = memorized transactions are not imported
note-section-no-bank-transactions = it holds no bank transactions
note-comments = Line { $line }: { $count ->
    [one] one comment line before the first header was skipped.
   *[other] { $count } comment lines before the first header were skipped.
}

## Receipts.
note-rounded = { $receipt }, item { $item }: { $quantity } × { $price } is { $exact }, rounded half to even to { $total }.

## Against what you already hold.
note-clash = { $file }, line { $line }: the key { $key } is already in your data with other content, from an earlier file. This record was imported as another one.
