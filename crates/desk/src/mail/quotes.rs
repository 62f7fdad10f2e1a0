//! Trimming a reply down to what its writer wrote: the quoted history below it (`>`
//! lines after an "On … wrote:" line, Outlook's "From:/Sent:" block or "Original
//! Message" line) and the signature after `-- ` are cut. Quotes *inside* the text
//! (answers written between quoted lines) stay: there they are context.

/// The reply without its quoted history and signature; the whole text if nothing
/// would be left (a message of quotes only is still a message).
pub fn trim_reply(text: &str) -> String {
    let text = tidy(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut end = history_start(&lines).unwrap_or(lines.len());
    end = trailing_quote_start(&lines[..end]);
    let trimmed = lines[..end].join("\n").trim_end().to_owned();
    if trimmed.trim().is_empty() {
        text.trim_end().to_owned()
    } else {
        trimmed
    }
}

/// Lines without trailing blanks (non-breaking spaces of HTML included), and no more
/// than one empty line in a row.
fn tidy(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank_before = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() && blank_before {
            continue;
        }
        blank_before = line.is_empty();
        tidy.push_str(line);
        tidy.push('\n');
    }
    tidy
}

/// Where history that is not `>`-quoted begins: a signature, an "Original Message"
/// line, Outlook's separator line, or its header block (From: then Sent:/Date:).
fn history_start(lines: &[&str]) -> Option<usize> {
    lines.iter().enumerate().find_map(|(at, line)| {
        let trimmed = line.trim();
        // The signature's "-- " (its blank trimmed by `tidy`).
        let starts = *line == "--"
            || is_original_message(trimmed)
            || (trimmed.len() >= 10 && trimmed.chars().all(|c| c == '_'))
            || (is_header(trimmed, &["From:", "От:", "От кого:"])
                && lines[at + 1..].iter().take(4).any(|next| {
                    is_header(next.trim(), &["Sent:", "Date:", "Отправлено:", "Дата:"])
                }));
        starts.then_some(at)
    })
}

fn is_original_message(line: &str) -> bool {
    let inner = line.trim_matches('-').trim().to_lowercase();
    line.starts_with("---")
        && [
            "original message",
            "исходное сообщение",
            "forwarded message",
            "пересылаемое сообщение",
        ]
        .contains(&inner.as_str())
}

fn is_header(line: &str, names: &[&str]) -> bool {
    names.iter().any(|name| {
        line.get(..name.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(name))
    })
}

/// Where the trailing block of `>` lines (with blank lines among them, and the
/// attribution line above them) begins; `lines.len()` if the text ends otherwise.
fn trailing_quote_start(lines: &[&str]) -> usize {
    let mut start = lines.len();
    while start > 0 {
        let line = lines[start - 1].trim();
        if line.is_empty() || line.starts_with('>') {
            start -= 1;
        } else {
            break;
        }
    }
    let quoted = lines[start..]
        .iter()
        .any(|line| line.trim().starts_with('>'));
    if !quoted {
        return lines.len();
    }
    match start.checked_sub(1).map(|above| lines[above].trim()) {
        // Wrapped over two lines: "On …, Ann <ann@x>" / "wrote:".
        Some(verb) if is_attribution(verb) && !verb.contains(' ') => start.saturating_sub(2),
        Some(line) if is_attribution(line) => start - 1,
        _ => start,
    }
}

/// "On Mon, 1 Dec 2026, Ann wrote:", "1 дек. 2026 г., в 10:00, Анна написал(а):",
/// "Анна пишет:", and Gmail's Russian "пн, 1 дек. 2026 г. в 10:02, Анна <a@x.ru>:".
fn is_attribution(line: &str) -> bool {
    let line = line.trim().to_lowercase();
    let verb = [
        "wrote:",
        "написал:",
        "написала:",
        "написал(а):",
        "пишет:",
        "писал:",
        "писала:",
    ]
    .iter()
    .any(|ending| line.ends_with(ending));
    verb || (line.ends_with(">:") && line.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_reply_keeps_only_the_answer() {
        let text = "Thanks, it works now.\n\nOn Mon, 1 Dec 2026 at 10:00, IT desk <desk@example.org> wrote:\n> Please restart the printer.\n>\n> Ivan\n";
        assert_eq!(trim_reply(text), "Thanks, it works now.");
    }

    #[test]
    fn a_wrapped_attribution_goes_with_its_quote() {
        let text = "Да, помогло.\n\nПн, 1 дек. 2026 г. в 10:00, Служба ИТ <desk@example.org>\nнаписал(а):\n> Перезагрузите принтер.\n";
        assert_eq!(trim_reply(text), "Да, помогло.");
    }

    #[test]
    fn gmails_russian_attribution_has_no_verb() {
        let text = "Спасибо!\n\nпн, 1 дек. 2026 г. в 10:02, Служба ИТ <desk@example.org>:\n\n> Перезагрузите.\n>\n";
        assert_eq!(trim_reply(text), "Спасибо!");
    }

    #[test]
    fn blank_lines_of_html_collapse() {
        assert_eq!(
            trim_reply("Добрый день!\n\n\u{a0}\n\nТекст."),
            "Добрый день!\n\nТекст."
        );
    }

    #[test]
    fn outlook_history_is_cut() {
        let text = "Still broken.\r\n\r\n________________________________\r\nFrom: IT desk <desk@example.org>\r\nSent: Monday, December 1, 2026 10:00\r\nSubject: [#5] New reply\r\n\r\nPlease restart.\r\n";
        assert_eq!(trim_reply(text), "Still broken.");
        let russian = "Не работает.\n\nОт: Служба ИТ <desk@example.org>\nОтправлено: 1 декабря 2026 г. 10:00\nТема: [#5]\n\nПерезагрузите.";
        assert_eq!(trim_reply(russian), "Не работает.");
        let original = "See below.\n-----Original Message-----\nFrom: x\n";
        assert_eq!(trim_reply(original), "See below.");
    }

    #[test]
    fn answers_between_quotes_stay() {
        let text = "> Which printer?\nThe one on the 3rd floor.\n> Since when?\nYesterday.";
        assert_eq!(trim_reply(text), text);
    }

    #[test]
    fn the_signature_is_cut() {
        assert_eq!(
            trim_reply("The VPN drops every hour.\n-- \nJohn Smith\nAccounting"),
            "The VPN drops every hour."
        );
    }

    #[test]
    fn a_message_of_quotes_only_stays_whole() {
        assert_eq!(trim_reply("> just a quote\n"), "> just a quote");
    }
}
