//! How hard a password is to guess, offline: refused when it contains the person's login or
//! name, when it is a common password or word (even with digits or symbols around it), or
//! when its characters, once repeats and runs (`aaaa`, `1234`, `azerty`) are discounted,
//! carry too little entropy. Each refusal says why, in words a teacher understands.

use crate::text::search_key;

/// Bits an accepted password carries at least (about 3·10¹³ guesses: years offline
/// against argon2id).
pub const MIN_BITS: f64 = 45.0;

/// Passwords and words that lists of leaked passwords start with, French first. Compared
/// lower-case, accents removed, once digits and symbols around them are taken away.
const COMMON: &[&str] = &[
    "motdepasse",
    "azerty",
    "azertyuiop",
    "qwerty",
    "qwertyuiop",
    "password",
    "passw0rd",
    "soleil",
    "bonjour",
    "doudou",
    "chouchou",
    "loulou",
    "nicolas",
    "julien",
    "camille",
    "marseille",
    "paris",
    "toulouse",
    "lyon",
    "france",
    "olivier",
    "coucou",
    "chocolat",
    "princesse",
    "jetaime",
    "amour",
    "doudoune",
    "ecole",
    "enseignant",
    "enseignante",
    "directeur",
    "directrice",
    "maitresse",
    "maitre",
    "professeur",
    "classe",
    "eleve",
    "mairie",
    "commune",
    "numerique",
    "tablette",
    "ordinateur",
    "bienvenue",
    "admin",
    "administrateur",
    "utilisateur",
    "secret",
    "welcome",
    "letmein",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "iloveyou",
    "sunshine",
    "princess",
    "master",
    "shadow",
    "superman",
    "batman",
    "michael",
    "charlie",
    "trustno1",
    "starwars",
    "computer",
    "internet",
    "freedom",
    "whatever",
    "qazwsx",
    "abc",
    "abcdef",
    "abcdefgh",
    "123456",
    "1234567890",
    "0123456789",
    "000000",
    "111111",
    "121212",
    "654321",
    "987654321",
    "changeme",
    "preau",
    "demo",
    "test",
    "testtest",
    "vacances",
    "famille",
    "maison",
    "papa",
    "maman",
    "bisous",
    "calinou",
    "mimi",
    "minou",
    "chaton",
    "chien",
    "chat",
    "automne",
    "printemps",
    "hiver",
    "ete",
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
];

/// Rows of French and English keyboards: walking along one is a run.
const ROWS: &[&str] = &[
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1234567890",
];

fn adjacent(a: char, b: char) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    if (a as i32 - b as i32).abs() == 1 {
        return true;
    }
    ROWS.iter().any(|row| {
        let r: Vec<char> = row.chars().collect();
        r.windows(2)
            .any(|w| (w[0] == a && w[1] == b) || (w[0] == b && w[1] == a))
    })
}

/// Bits of entropy as guessed: each character is worth the size of the alphabets the
/// password uses, except a repeat of the previous one, a step along a run (`abc`, `321`,
/// `azer`) or a short pattern said again (`abcabc`), worth one bit.
pub fn bits(pw: &str) -> f64 {
    let chars: Vec<char> = pw.chars().collect();
    let mut pool: f64 = 0.0;
    if chars.iter().any(char::is_ascii_lowercase) {
        pool += 26.0;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        pool += 26.0;
    }
    if chars.iter().any(char::is_ascii_digit) {
        pool += 10.0;
    }
    if chars.iter().any(|c| c.is_ascii_punctuation() || *c == ' ') {
        pool += 33.0;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 64.0;
    }
    let each = f64::log2(pool.max(2.0));
    let mut total = 0.0;
    for (i, c) in chars.iter().enumerate() {
        let step = i > 0 && (chars[i - 1].eq_ignore_ascii_case(c) || adjacent(chars[i - 1], *c));
        // A pattern of 2 to 4 characters said again (`abcabc`).
        let again = (2..=4).any(|p| {
            i >= p && chars[i] == chars[i - p] && (i < p + 1 || chars[i - 1] == chars[i - 1 - p])
        });
        let cheap = step || again;
        total += if cheap { 1.0 } else { each };
    }
    total
}

/// Why a password is refused (a `FieldError` code), or `None` when it is strong enough.
/// `names` are the person's login and name, which it must not contain.
pub fn weakness(pw: &str, names: &[&str]) -> Option<&'static str> {
    let folded = search_key(pw).replace(' ', "");
    for name in names {
        for part in search_key(name).split([' ', '.', '-', '_']) {
            if part.chars().count() >= 3 && folded.contains(part) {
                return Some("password_contains_login");
            }
        }
    }
    let core = folded.trim_matches(|c: char| !c.is_alphabetic());
    let leet: String = core
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '@' => 'a',
            '$' => 's',
            c => c,
        })
        .collect();
    if COMMON.contains(&folded.as_str())
        || COMMON.contains(&core)
        || COMMON.contains(&leet.as_str())
        || (core.is_empty() && COMMON.iter().any(|c| folded.starts_with(c) && c.len() >= 6))
    {
        return Some("password_common");
    }
    if bits(pw) < MIN_BITS {
        return Some("password_weak");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_audit_tried_is_refused_with_its_reason() {
        let names = ["sdirectrice", "Sophie Directrice"];
        for (pw, why) in [
            ("aaaaaaaaaa", "password_weak"),
            ("password12", "password_common"),
            ("P@ssw0rd2026!", "password_common"),
            ("Motdepasse2024", "password_common"),
            ("azertyuiop", "password_common"),
            ("1234567890", "password_common"),
            ("abcdefghijkl", "password_weak"),
            ("qsdfghjklmqs", "password_weak"),
            ("sdirectrice2026", "password_contains_login"),
            ("Sophie-est-la-1", "password_contains_login"),
            ("bonjour!!2025", "password_common"),
            ("abcabcabcabc", "password_weak"),
        ] {
            assert_eq!(weakness(pw, &names), Some(why), "{pw}");
        }
    }

    #[test]
    fn passphrases_and_mixed_passwords_pass() {
        let names = ["sdirectrice", "Sophie Directrice"];
        for pw in [
            "Tr0ub4dor&3x",
            "cheval agrafe pile correcte",
            "La-cantine-ferme-a-13h",
            "Elancourt#Ecoles2026",
            "vK8!qz2#Lm",
        ] {
            assert_eq!(weakness(pw, &names), None, "{pw}: {} bits", bits(pw));
        }
    }
}
