//! Money and charts as the steering pages show them: euros to the cent or to the euro, and
//! charts drawn by the server as SVG from numbers (no script, nothing from outside), each
//! hidden from screen readers because its data table follows it on the page.

/// Cents as euros to the cent (`1 234,56 €`).
pub fn euros(cents: i64) -> String {
    preau_domain::device::format_euros(cents)
}

/// A total, to the euro (`1 234 567 €`): what fits a tile on a phone.
pub fn whole_euros(cents: i64) -> String {
    let rounded = (cents + 50).div_euclid(100) * 100;
    euros(rounded).replace(",00 €", "\u{a0}€")
}

/// A bar chart as SVG, drawn by the server from numbers only (no text from users): one
/// bar per `(label, value)`, the value above it. Its data table follows it on the page
/// for screen readers; the SVG itself is hidden from them.
pub fn bar_chart(bars: &[(String, i64, String)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let (w, h, gap) = (64, 160, 16);
    let width = bars.len() as i64 * (w + gap) + gap;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {}\" role=\"presentation\" aria-hidden=\"true\" focusable=\"false\">",
        h + 44
    );
    for (i, (label, value, shown)) in bars.iter().enumerate() {
        let x = gap + i as i64 * (w + gap);
        let bh = value * h / max;
        let y = 20 + h - bh;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{bh}\" fill=\"#000091\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>",
            x + w / 2,
            y - 5,
            askama::filters::escape(shown, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default(),
            x + w / 2,
            h + 40,
            askama::filters::escape(label, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default(),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A month as a chart or a table heads it: « déc. 2026 ».
pub fn month_label(lang: preau_domain::Lang, m: preau_core::reports::Month) -> String {
    const FR: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let names = if lang == preau_domain::Lang::Fr {
        FR
    } else {
        EN
    };
    format!(
        "{} {}",
        names[(m.month as usize).saturating_sub(1) % 12],
        m.year
    )
}
