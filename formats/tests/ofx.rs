//! The OFX/QFX reader on bank-like fixtures (`tests/fixtures/ofx/`) and a round trip.

mod common;

use common::{
    Tx, Txn, column, day_ms, english, escape, fixture, in_account, read_ok, txn, txs, within_lines,
};
use insitu_formats::{BadRecord, Format, Options, Parsed, detect, money, ofx};
use proptest::prelude::*;

fn read(name: &str) -> Parsed {
    read_ok(Format::Ofx, &format!("ofx/{name}"))
}

fn refused(bytes: &[u8]) -> (u64, String) {
    let e = ofx::parse(bytes, &Options::default()).expect_err("the file must be refused");
    (e.line, e.reason)
}

/// The fixture `name`.
fn file(name: &str) -> Vec<u8> {
    fixture(&format!("ofx/{name}"))
}

#[test]
fn sgml_windows_1252_with_a_checking_account_and_a_card() {
    let p = read("societe-generale-1252.ofx");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    let t = txs(&p);
    assert_eq!(t.len(), 7);
    let checking = "00050123456";
    let card = "4974XXXXXXXX1234";
    assert_eq!(
        column(&t, |t| t.account.as_str()),
        [checking, checking, checking, checking, checking, card, card]
    );
    assert_eq!(column(&t, |t| t.line), [44, 53, 61, 69, 76, 109, 117]);
    // A French debit with a comma decimal and accents read from Windows-1252.
    assert_eq!(
        t[0],
        Tx {
            line: 44,
            key: Some(format!("{checking}/SG24030100001")),
            account: checking.into(),
            booked: day_ms(2024, 3, 1),
            value_date: None,
            amount: -1999,
            currency: "EUR".into(),
            counterparty: Some("PRLV SEPA FREE MOBILE".into()),
            label: "Prélèvement FREE MOBILE Réf. FM8812".into(),
            reference: None,
            balance: Some(13_851),
        }
    );
    // A credit.
    assert_eq!(t[1].amount, 245_000);
    assert_eq!(
        t[1].counterparty.as_deref(),
        Some("VIR SEPA EMPLOYEUR SALAIRE")
    );
    assert_eq!(t[1].label, "SALAIRE FEVRIER 2024");
    // No MEMO: the label is the NAME; DTAVAIL is the value date.
    assert_eq!(t[2].label, "CB CARREFOUR 02/03");
    assert_eq!(t[2].value_date, Some(day_ms(2024, 3, 5)));
    assert_eq!(t[2].amount, -5430);
    // No NAME: no counterparty; neither NAME nor MEMO: the label is the TRNTYPE.
    assert_eq!(t[3].counterparty, None);
    assert_eq!(t[3].label, "FRAIS TENUE DE COMPTE");
    assert_eq!((t[4].label.as_str(), t[4].amount), ("SRVCHG", -800));
    // Balances run back from LEDGERBAL 2523,71 on the day of the last transaction.
    assert_eq!(
        column(&t[..5], |t| t.balance),
        [
            Some(13_851),
            Some(258_851),
            Some(253_421),
            Some(253_171),
            Some(252_371)
        ]
    );
    // The card: a purchase and a refund; its balance predates the statement, so no balances.
    assert_eq!(
        t[5].counterparty.as_deref(),
        Some("CB CAFÉ DE LA GARE 02/03")
    );
    assert_eq!(t[5].label, "Café de la Gare Angoulême");
    assert_eq!((t[5].amount, t[6].amount), (-420, 1500));
    assert_eq!(t[6].key.as_deref(), Some("4974XXXXXXXX1234/CB24030400002"));
    assert!(t[5..].iter().all(|t| t.balance.is_none()));
    assert_eq!(
        english(&p),
        [format!(
            "account {card}: running balances left empty: the ledger balance is dated \
             2024-02-29, before the last transaction (2024-03-04)"
        )]
    );
}

#[test]
fn overlapping_statements_give_the_same_keys_and_values() {
    let jan = read("jan.ofx");
    let feb = read("jan-feb.ofx");
    assert!(jan.bad.is_empty() && feb.bad.is_empty());
    assert!(jan.notes.is_empty() && feb.notes.is_empty());
    let (j, f) = (txs(&jan), txs(&feb));
    assert_eq!((j.len(), f.len()), (5, 6));
    // Jan 16, 22 and 29 are in both files: same natural keys, same values, same balances.
    for (a, b) in j[2..].iter().zip(&f[..3]) {
        assert_eq!(a.key, b.key);
        assert_eq!(
            Tx {
                line: 0,
                ..a.clone()
            },
            Tx {
                line: 0,
                ..b.clone()
            }
        );
    }
    assert_eq!(
        column(&f[..3], |t| t.key.as_deref().unwrap()),
        [
            "00012345601/24016000003",
            "00012345601/24022000004",
            "00012345601/24029000005"
        ]
    );
    let mut keys: Vec<_> = j.iter().chain(&f).map(|t| t.key.clone().unwrap()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 8);
    // The time and offset after the date are ignored: 20240116120000[+1:CET] is January 16.
    assert_eq!(j[2].booked, day_ms(2024, 1, 16));
    assert_eq!(j[2].amount, 231_045);
    assert_eq!(j[4].balance, Some(183_421));
    assert_eq!(j[2].balance, Some(189_920));
    assert_eq!(j[0].balance, Some(183_421 + 4500 + 1999 - 231_045 + 6312));
    assert_eq!(f[3].reference.as_deref(), Some("1234567"));
    assert_eq!(f[3].label, "CHEQUE 1234567");
    assert_eq!(f[5].balance, Some(170_581));
}

#[test]
fn xml_2x_newest_first_with_payee_entities_and_checks() {
    let p = read("us-checking-2x.ofx");
    assert!(p.bad.is_empty() && p.notes.is_empty());
    let t = txs(&p);
    assert_eq!(column(&t, |t| t.line), [35, 44, 59, 68, 77]);
    assert!(in_account(&t, "1234567890", "USD"));
    assert_eq!(t[0].reference.as_deref(), Some("410140851234"));
    assert_eq!(t[0].label, "MOBILE DEPOSIT : REF NUMBER :410140851234");
    // PAYEE/NAME with an entity.
    assert_eq!(t[1].counterparty.as_deref(), Some("AT&T MOBILITY"));
    assert_eq!(t[1].label, "ONLINE PMT 240212");
    assert_eq!(t[1].key.as_deref(), Some("1234567890/202402122"));
    // A check with an empty <MEMO/>: labelled by its NAME; 23:59:59 PST is still February 9.
    assert_eq!(t[2].reference.as_deref(), Some("1043"));
    assert_eq!(t[2].label, "CHECK # 1043");
    assert_eq!(t[2].booked, day_ms(2024, 2, 9));
    assert_eq!(t[2].amount, -120_000);
    assert_eq!(t[3].counterparty.as_deref(), Some("TRADER JOE'S #552"));
    assert_eq!(t[3].value_date, Some(day_ms(2024, 2, 6)));
    assert_eq!(t[4].amount, 287_550);
    assert_eq!(t[4].booked, day_ms(2024, 2, 1));
    // Newest first: the ledger balance is the balance after the first transaction listed.
    assert_eq!(
        column(&t, |t| t.balance.unwrap()),
        [421_088, 386_088, 394_605, 514_605, 521_043]
    );
}

#[test]
fn qfx_with_a_bom_crlf_and_utf8() {
    let bytes = file("chase-card.qfx");
    assert!(bytes.starts_with(b"\xEF\xBB\xBFOFXHEADER:100\r\n"));
    let p = read("chase-card.qfx");
    assert!(p.bad.is_empty() && p.notes.is_empty());
    let t = txs(&p);
    assert_eq!(column(&t, |t| t.line), [43, 50, 57, 64, 72]);
    assert!(t.iter().all(|t| t.account == "4147202212345678"));
    assert_eq!(
        column(&t, |t| t.amount),
        [152_366, -4299, -2850, -675, -1820]
    );
    assert_eq!(t[0].label, "Payment Thank You - Web");
    assert_eq!(t[2].counterparty.as_deref(), Some("LA CRÊPERIE DE PARIS"));
    assert_eq!(t[4].label, "UBER   *TRIP");
    assert_eq!(t[4].booked, day_ms(2024, 3, 9));
    assert_eq!(
        t[4].key.as_deref(),
        Some("4147202212345678/2024030924692163093100000005")
    );
    assert_eq!(
        column(&t, |t| t.balance.unwrap()),
        [-100_130, -104_429, -107_279, -107_954, -109_774]
    );
}

#[test]
fn unreadable_transactions_are_reported_not_dropped() {
    let p = read("bad-records.ofx");
    let t = txs(&p);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].line, t[0].amount), (40, -3590));
    assert_eq!((t[1].line, t[1].amount), (66, -150));
    assert!(t.iter().all(|t| t.balance.is_none()));
    let bad = |line, element: &str, field: &str, reason: &str| BadRecord {
        line,
        element: Some(element.into()),
        field: field.into(),
        reason: reason.into(),
    };
    assert_eq!(
        p.bad,
        [
            bad(
                47,
                "STMTTRN FITID LBP2404030002",
                "TRNAMT",
                "`-45.OO` is not an amount: unexpected `O`"
            ),
            bad(
                54,
                "STMTTRN",
                "DTPOSTED",
                "`20240231`: 2024-02 has no day 31"
            ),
            bad(
                60,
                "STMTTRN FITID LBP2404050004",
                "DTPOSTED",
                "the transaction has no posting date"
            ),
        ]
    );
    assert_eq!(
        p.bad[0].to_string(),
        "47 (STMTTRN FITID LBP2404030002): field `TRNAMT`: `-45.OO` is not an amount: unexpected `O`"
    );
    assert_eq!(
        english(&p),
        ["account 0412345K020: running balances left empty: 3 transaction(s) could not be read"]
    );
}

#[test]
fn malformed_files_are_refused_with_the_line_and_reason() {
    assert_eq!(
        refused(&file("truncated.ofx")),
        (
            55,
            "the file is truncated: it ends at line 58 inside <STMTTRN> opened at line 55".into()
        )
    );
    assert_eq!(
        refused(&file("no-account.ofx")),
        (
            29,
            "the statement <STMTRS> has no account: <BANKACCTFROM><ACCTID> is missing".into()
        )
    );
    assert_eq!(
        refused(&file("no-currency.ofx")),
        (
            29,
            "the statement <STMTRS> has no currency: <CURDEF> is missing".into()
        )
    );
    let jan = String::from_utf8(file("jan.ofx")).unwrap();
    let no_end = jan.replace("</OFX>", "");
    assert_eq!(
        refused(no_end.as_bytes()),
        (11, "the file is truncated: </OFX> is missing".into())
    );
    let unclosed = jan.replacen("</STMTTRN>\n", "", 1);
    assert_eq!(
        refused(unclosed.as_bytes()),
        (
            40,
            "<STMTTRN> opened at line 40 is not closed before </BANKTRANLIST> at line 77".into()
        )
    );
    let bad_currency = jan.replace("<CURDEF>EUR", "<CURDEF>EURO");
    assert_eq!(
        refused(bad_currency.as_bytes()),
        (
            30,
            "<CURDEF>: `EURO` is not a currency code like EUR".into()
        )
    );
    assert_eq!(
        refused(b"Date;Libelle;Montant\n01/03/2024;CB CARREFOUR;-54,30\n"),
        (1, "not an OFX file: no <OFX> element".into())
    );
    assert_eq!(
        refused(b"OFXHEADER:100\n\n<OFX><SIGNONMSGSRSV1></SIGNONMSGSRSV1></OFX>"),
        (
            3,
            "no bank, credit card or investment statement (<STMTRS>, <CCSTMTRS> or \
             <INVSTMTRS>) in the file"
                .into()
        )
    );
    assert_eq!(
        refused(b"<OFX>\n<INVSTMTMSGSRSV1><INVSTMTTRNRS>\n<INVSTMTRS></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>"),
        (
            3,
            "the statement <INVSTMTRS> has no account: <INVACCTFROM><ACCTID> is missing".into()
        )
    );
    assert_eq!(
        refused(&"<OFX>".repeat(1000).into_bytes()).1,
        "<OFX> is nested more than 64 elements deep"
    );
}

/// A minimal OFX 2 statement around `body`, with the XML declaration's `encoding`.
fn xml_statement(encoding: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"211\"?>\n\
         <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR</CURDEF>\n\
         <BANKACCTFROM><ACCTID>FR76</ACCTID></BANKACCTFROM>\n<BANKTRANLIST>\n{body}\n\
         </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
}

#[test]
fn charsets_declared_and_sniffed() {
    let trn = "<STMTTRN><DTPOSTED>20240301</DTPOSTED><TRNAMT>-1.00</TRNAMT>\
               <NAME>Société Générale</NAME></STMTTRN>";
    let label = |bytes: &[u8]| {
        let p = ofx::parse(bytes, &Options::default()).unwrap();
        Tx::from(&p.items[0]).counterparty.unwrap()
    };
    // Declared Latin-1, written Latin-1.
    let latin1 = encoding_rs::WINDOWS_1252
        .encode(&xml_statement("ISO-8859-1", trn))
        .0
        .into_owned();
    assert!(latin1.contains(&0xE9));
    assert_eq!(label(&latin1), "Société Générale");
    // Declared UTF-8, written UTF-8.
    assert_eq!(
        label(xml_statement("UTF-8", trn).as_bytes()),
        "Société Générale"
    );
    // OFX 1 declaring CHARSET:1252 but written in UTF-8, as some banks do: the bytes win.
    let sgml = |charset: &str| {
        format!(
            "OFXHEADER:100\nDATA:OFXSGML\nENCODING:USASCII\nCHARSET:{charset}\n\n<OFX>\
             <BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKACCTFROM><ACCTID>FR76\
             </BANKACCTFROM><BANKTRANLIST>{trn}</BANKTRANLIST></STMTRS></STMTTRNRS>\
             </BANKMSGSRSV1></OFX>"
        )
    };
    assert_eq!(label(sgml("1252").as_bytes()), "Société Générale");
    let cp1252 = encoding_rs::WINDOWS_1252
        .encode(&sgml("1252"))
        .0
        .into_owned();
    assert_eq!(label(&cp1252), "Société Générale");
    // An unknown charset is noted, and the bytes decide.
    let p = ofx::parse(sgml("KLINGON").as_bytes(), &Options::default()).unwrap();
    assert_eq!(
        english(&p),
        ["unknown text encoding `KLINGON`: the file is read as UTF-8 or Windows-1252"]
    );
    // Numeric entities, and a lone `&` and `<` kept as text.
    let p = ofx::parse(
        xml_statement(
            "UTF-8",
            &trn.replace("Société Générale", "M&S &#233;&#xE9; <3"),
        )
        .as_bytes(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        Tx::from(&p.items[0]).counterparty.as_deref(),
        Some("M&S éé <3")
    );
}

#[test]
fn pending_and_foreign_currency_transactions() {
    let body = "<STMTTRN><DTPOSTED>20240301<TRNAMT>-1500<FITID>A1<NAME>HOTEL KYOTO\
                <CURRENCY><CURRATE>0.0061<CURSYM>JPY</CURRENCY></STMTTRN>\n\
                <STMTTRN><DTPOSTED>20240302<TRNAMT>-3.50<FITID>A2<MEMO>CB PAUL</STMTTRN>\n\
                </BANKTRANLIST><BANKTRANLISTP><STMTTRNP><DTTRAN>20240303<TRNAMT>-9.99\
                <NAME>SPOTIFY</STMTTRNP></BANKTRANLISTP><BANKTRANLIST>";
    let p = ofx::parse(xml_statement("UTF-8", body).as_bytes(), &Options::default()).unwrap();
    let t = txs(&p);
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].amount, t[0].currency.as_str()), (-1500, "JPY"));
    assert_eq!((t[1].amount, t[1].currency.as_str()), (-350, "EUR"));
    assert_eq!(t[1].label, "CB PAUL");
    assert_eq!(t[1].counterparty, None);
    assert_eq!(
        english(&p),
        ["line 3: 1 pending transaction(s) left out until they are booked (line(s) 8)"]
    );
}

#[test]
fn a_fitid_listed_twice_is_kept_once_and_one_reused_stays_on_each() {
    let trn = |fitid: &str, amount: &str, line: &str| {
        format!(
            "<STMTTRN><DTPOSTED>20240301</DTPOSTED><TRNAMT>{amount}</TRNAMT>\
             <FITID>{fitid}</FITID><NAME>CB LIDL</NAME></STMTTRN>{line}"
        )
    };
    let body = [
        trn("X1", "-1.00", "\n"),
        trn("X1", "-2.00", "\n"),
        trn("X2", "-3.00", "\n"),
        trn("X2", "-3.00", ""),
    ]
    .concat();
    let p = ofx::parse(
        xml_statement("UTF-8", &body).as_bytes(),
        &Options::default(),
    )
    .unwrap();
    let t = txs(&p);
    // X1 names two transactions: both are kept, with their FITID (the host gives each its
    // own id). X2 twice with the same content is one transaction listed twice: kept once.
    assert_eq!(
        column(&t, |t| (t.key.clone(), t.amount)),
        [
            (Some("FR76/X1".into()), -100),
            (Some("FR76/X1".into()), -200),
            (Some("FR76/X2".into()), -300),
        ]
    );
    assert_eq!(
        english(&p),
        [
            "account FR76: FITID X1 is used by different transactions (lines 6, 7); each is \
             imported",
            "account FR76: FITID X2 is listed 2 times with the same content (lines 8, 9): one \
             transaction, imported once; line(s) 9 left out",
        ]
    );
}

#[test]
fn investment_statements_give_their_cash_movements() {
    let p = read("investment.ofx");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    let t = txs(&p);
    assert!(in_account(&t, "X7734-2291", "USD"));
    assert_eq!(
        column(&t, |t| (t.line, t.key.as_deref(), t.booked, t.amount)),
        [
            (
                26,
                Some("X7734-2291/BT-20240304-1"),
                day_ms(2024, 3, 4),
                500_000
            ),
            (
                68,
                Some("X7734-2291/BT-20240329-1"),
                day_ms(2024, 3, 29),
                -1500
            ),
        ]
    );
    assert_eq!(
        t[0].counterparty.as_deref(),
        Some("ACH DEPOSIT FROM CHECKING")
    );
    assert_eq!(t[1].label, "Quarterly account fee");
    // No ledger balance in an investment statement: no running balances.
    assert!(t.iter().all(|t| t.balance.is_none()));
    assert_eq!(
        english(&p),
        [
            "line 15: investment account X7734-2291: imported its 2 cash movement(s) \
             (<INVBANKTRAN>); left out 2 investment transaction(s) (BUYSTOCK, SELLMF), \
             2 position(s) (<INVPOSLIST>) and the cash and margin balances (<INVBAL>)"
        ]
    );
}

#[test]
fn a_transaction_with_several_bad_fields_names_each() {
    let p = read("several-bad-fields.ofx");
    assert_eq!(
        column(&txs(&p), |t| t.key.clone()),
        [Some("00050012345/F1".into())]
    );
    let reason = "field `DTPOSTED`: `20240231`: 2024-02 has no day 31; \
                  field `DTAVAIL`: `2024-03-01` is not a date (YYYYMMDD); \
                  field `TRNAMT`: `-4,2O` is not an amount: unexpected `O`";
    assert_eq!(
        p.bad,
        [BadRecord {
            line: 37,
            element: Some("STMTTRN FITID F2".into()),
            field: "DTPOSTED, DTAVAIL, TRNAMT".into(),
            reason: reason.into(),
        }]
    );
    assert_eq!(
        p.bad[0].to_string(),
        format!("37 (STMTTRN FITID F2): {reason}")
    );
}

#[test]
fn garbage_never_panics() {
    let samples: [&[u8]; 8] = [
        b"",
        b"<",
        b"<OFX",
        b"<OFX><STMTRS></OFX>",
        b"<OFX><!-- unterminated",
        b"<OFX><![CDATA[x",
        b"<OFX>\xff\xfe<</OFX>",
        b"<OFX><STMTRS><CURDEF>EUR<BANKACCTFROM><ACCTID>1</BANKACCTFROM><LEDGERBAL>\
          <BALAMT>92233720368547758.07<DTASOF>20991231</LEDGERBAL><STMTTRN><DTPOSTED>20240101\
          <TRNAMT>-1.00</STMTTRN></STMTRS></OFX>",
    ];
    for s in samples {
        let _ = ofx::parse(s, &Options::default());
    }
    let p = ofx::parse(samples[7], &Options::default()).unwrap();
    assert_eq!(
        english(&p),
        ["account 1: running balances left empty: the amounts are too large to add up"]
    );
}

/// Writes `txs` as an OFX 1 (SGML, leaves unclosed) or OFX 2 (XML) statement.
fn write(txs: &[Txn], xml: bool, comma: bool, latin1: bool, closing: i64) -> Vec<u8> {
    let leaf = |tag: &str, v: &str| {
        if xml {
            format!("<{tag}>{v}</{tag}>\n")
        } else {
            format!("<{tag}>{v}\n")
        }
    };
    let amount = |m: i64| {
        let a = money::format_minor(m, "EUR");
        if comma { a.replace('.', ",") } else { a }
    };
    let mut s = if xml {
        let enc = if latin1 { "windows-1252" } else { "UTF-8" };
        format!("<?xml version=\"1.0\" encoding=\"{enc}\"?>\n<?OFX OFXHEADER=\"200\"?>\n")
    } else {
        let cs = if latin1 {
            "ENCODING:USASCII\nCHARSET:1252"
        } else {
            "ENCODING:UTF-8\nCHARSET:NONE"
        };
        format!("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n{cs}\n\n")
    };
    s += "<OFX>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n<STMTRS>\n";
    s += &leaf("CURDEF", "EUR");
    s += "<BANKACCTFROM>\n";
    s += &leaf("ACCTID", "FR7630003");
    s += "</BANKACCTFROM>\n<BANKTRANLIST>\n";
    for (i, t) in txs.iter().enumerate() {
        let (y, m, d) = t.date;
        s += "<STMTTRN>\n";
        s += &leaf("TRNTYPE", if t.amount < 0 { "DEBIT" } else { "CREDIT" });
        s += &leaf("DTPOSTED", &format!("{y:04}{m:02}{d:02}120000.000[+1:CET]"));
        s += &leaf("TRNAMT", &amount(t.amount));
        s += &leaf("FITID", &format!("F{i}"));
        if let Some(c) = t.number {
            s += &leaf("CHECKNUM", &c.to_string());
        }
        if !t.payee.trim().is_empty() {
            s += &leaf("NAME", &escape(&t.payee));
        }
        if !t.memo.trim().is_empty() {
            s += &leaf("MEMO", &escape(&t.memo));
        }
        s += "</STMTTRN>\n";
    }
    s += "</BANKTRANLIST>\n<LEDGERBAL>\n";
    s += &leaf("BALAMT", &amount(closing));
    s += &leaf("DTASOF", "20991231");
    s += "</LEDGERBAL>\n</STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n";
    if latin1 {
        encoding_rs::WINDOWS_1252.encode(&s).0.into_owned()
    } else {
        s.into_bytes()
    }
}

fn gen_tx() -> impl Strategy<Value = Txn> {
    txn(1990..2040, "[A-Za-z0-9&<>éÉàç'/*.# -]{0,16}")
}

proptest! {
    #[test]
    fn written_statements_read_back(
        mut txs_in in proptest::collection::vec(gen_tx(), 0..12),
        xml: bool,
        comma: bool,
        latin1: bool,
        closing in -1_000_000_000i64..1_000_000_000,
    ) {
        txs_in.sort_by_key(|g| g.date);
        let bytes = write(&txs_in, xml, comma, latin1, closing);
        prop_assert_eq!(detect(&bytes), Some(Format::Ofx));
        let p = ofx::parse(&bytes, &Options::default()).unwrap();
        prop_assert!(p.bad.is_empty() && p.notes.is_empty());
        let t = txs(&p);
        prop_assert_eq!(t.len(), txs_in.len());
        let mut balance = closing;
        for (i, (g, t)) in txs_in.iter().zip(&t).enumerate().rev() {
            let (name, memo) = (g.payee.trim(), g.memo.trim());
            let kind = if g.amount < 0 { "DEBIT" } else { "CREDIT" };
            prop_assert_eq!(t.key.clone(), Some(format!("FR7630003/F{i}")));
            prop_assert_eq!(t.booked, day_ms(g.date.0, g.date.1, g.date.2));
            prop_assert_eq!(t.amount, g.amount);
            prop_assert_eq!(t.counterparty.as_deref(), Some(name).filter(|n| !n.is_empty()));
            let label = [memo, name, kind].into_iter().find(|l| !l.is_empty()).unwrap();
            prop_assert_eq!(&t.label, label);
            prop_assert_eq!(t.reference.clone(), g.number.map(|c| c.to_string()));
            prop_assert_eq!(t.balance, Some(balance));
            balance -= g.amount;
        }
    }
}

proptest! {
    /// Shuffled OFX fragments, as a fuzzer would try them: never a panic, and what is read
    /// points at lines of the file.
    #[test]
    fn fragments_never_panic(parts in proptest::collection::vec(prop::sample::select(vec![
        "<OFX>", "</OFX>", "<STMTRS>", "</STMTRS>", "<CCSTMTRS>", "<CURDEF>EUR", "<CURDEF>",
        "<BANKACCTFROM><ACCTID>1</BANKACCTFROM>", "<STMTTRN>", "</STMTTRN>", "<TRNAMT>-1,5",
        "<TRNAMT>99999999999999999", "<DTPOSTED>20240229", "<DTPOSTED>2024", "<FITID>F",
        "<LEDGERBAL><BALAMT>92233720368547758.07<DTASOF>2099</LEDGERBAL>", "<MEMO>", "<NAME>é",
        "&#x110000;", "&amp", "<!--", "-->", "<![CDATA[", "]]>", "<?xml encoding='utf-16'?>",
        "\n", "\r\n", "\u{feff}", "<", ">", "/", "é", "CHARSET:1252\n",
    ]), 0..40)) {
        let text = parts.concat();
        let lines = text.lines().count() as u64 + 1;
        if let Ok(p) = ofx::parse(text.as_bytes(), &Options::default()) {
            within_lines(&p, lines)?;
        }
    }
}
