//! Syntax error messages: where pest's error really is, what was
//! expected there in words, and a hint.

use super::*;

/// Where pest's error really is. pest places it where the furthest *rule*
/// failed, but the tokens it lists were tried further on: in `revision 1
/// class ...` the item rule fails at `revision` while the `;` was expected at
/// `class`. Returns the position, whether the rule-level attempts
/// (`positives`) and the token attempts apply there, and the rule position.
pub(super) fn error_position(e: &pest::error::Error<Rule>) -> (usize, bool, bool, usize) {
    let rule_pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    match e.parse_attempts().map(|a| a.max_position) {
        Some(token_pos) if token_pos > rule_pos => (token_pos, false, true, rule_pos),
        Some(token_pos) => (rule_pos, true, token_pos == rule_pos, rule_pos),
        None => (rule_pos, true, false, rule_pos),
    }
}

/// Tokens that start an expression: listed one by one they hide the point.
pub(super) const EXPR_START: &[&str] = &[
    "`!`",
    "`(`",
    "`-`",
    "`~`",
    "`0x`",
    "`0X`",
    "`0b`",
    "`0B`",
    "`_`",
    "`dma`",
    "`true`",
    "`false`",
    "`value`",
    "`if`",
    "`index`",
    "`byte`",
    "`access`",
    "a name",
    "a number",
    "`true` or `false`",
];

/// Human description of what pest expected, and the token found there.
pub(super) fn describe_expected(
    e: &pest::error::Error<Rule>,
    text: &str,
    pos: usize,
    use_rules: bool,
    use_tokens: bool,
) -> (String, String) {
    let mut tokens: Vec<String> = Vec::new();
    let mut rules: Vec<&'static str> = Vec::new();
    if let Some(attempts) = e.parse_attempts().filter(|_| use_tokens) {
        // `ParsingToken` is not exported; its Display is the literal itself
        // (or `a..z` for ranges and BUILTIN_RULE for built-ins, skipped).
        for t in attempts.expected_tokens() {
            let token = t.to_string();
            let is_range = token.chars().count() == 4 && token.chars().nth(1) == Some('.');
            let is_trivia = matches!(
                token.as_str(),
                " " | "\t" | "\r" | "\n" | "\u{feff}" | "//" | "/*"
            );
            if !token.is_empty() && token != "BUILTIN_RULE" && !is_range && !is_trivia {
                tokens.push(format!("`{token}`"));
            }
        }
    }
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant
        && use_rules
    {
        rules.extend(positives.iter().filter_map(|r| rule_description(*r)));
    }
    // Lexemes show up through their first characters: a `0x` stands for a
    // number, a `_` for a name.
    for t in &mut tokens {
        match t.as_str() {
            "`0x`" | "`0X`" | "`0b`" | "`0B`" => *t = "a number".to_string(),
            "`_`" => *t = "a name".to_string(),
            _ => {}
        }
    }
    // A token that a rule's description already names (`mem32` of "a BAR
    // kind (io, mem32, mem64)") says it twice.
    let described: Vec<&str> = rules
        .iter()
        .flat_map(|d| d.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| !w.is_empty())
        .collect();
    tokens.retain(|t| !described.contains(&t.trim_matches('`')));
    let mut items: Vec<String> = tokens;
    items.extend(rules.iter().map(|r| r.to_string()));
    // Everything that may start an expression, or a dozen operators, say less
    // than "an expression" and "an operator". `~` only starts an expression.
    if items.iter().any(|i| i == "an expression" || i == "`~`") {
        items.retain(|i| !EXPR_START.contains(&i.as_str()));
        items.push("an expression".to_string());
    }
    const OPERATORS: &[&str] = &[
        "`!=`", "`%`", "`&&`", "`&`", "`*`", "`+`", "`-`", "`/`", "`<<`", "`<=`", "`<`", "`==`",
        "`>=`", "`>>`", "`>`", "`^`", "`|`", "`||`",
    ];
    if items
        .iter()
        .filter(|i| OPERATORS.contains(&i.as_str()))
        .count()
        >= 3
    {
        items.retain(|i| !OPERATORS.contains(&i.as_str()));
        items.push("an operator".to_string());
    }
    items.sort();
    items.dedup();
    // Keywords first, then punctuation: nicer to read, stable for tests.
    let expected = match items.len() {
        0 => "a valid item".to_string(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} or {}", items.join(", "), last)
        }
    };
    (expected, token_at(text, pos))
}

/// A string or block comment that never ends, starting at `at`: pest can
/// only say that it expected something else there (`expected `"`, found
/// `"``), which reads as nonsense. Returns (span end, message, label, hint).
pub(super) fn unterminated(
    text: &str,
    at: usize,
) -> Option<(usize, &'static str, &'static str, &'static str)> {
    let rest = text.get(at..)?;
    if let Some(body) = rest.strip_prefix('"') {
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => return None,
                '\n' | '\r' => {
                    return Some((
                        at + 1 + i,
                        "unterminated string",
                        "this string has no closing `\"` on its line",
                        "strings end on the line they start: add the closing `\"`",
                    ));
                }
                _ => {}
            }
        }
        return Some((
            text.len(),
            "unterminated string",
            "this string has no closing `\"`",
            "add the closing `\"`",
        ));
    }
    if rest.starts_with("/*") && !rest[2..].contains("*/") {
        return Some((
            at + 2,
            "unterminated block comment",
            "this comment has no closing `*/`",
            "close the comment with `*/`",
        ));
    }
    None
}

/// The word or character at `pos`, to quote what was found.
pub(super) fn token_at(text: &str, pos: usize) -> String {
    let Some(rest) = text.get(pos..) else {
        return String::new();
    };
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        return String::new();
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect()
    } else {
        c.to_string()
    }
}

pub(super) fn rule_description(r: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match r {
        ident => "a name",
        number => "a number",
        string => "a string",
        boolean => "`true` or `false`",
        expr => "an expression",
        scalar_type => "a type (u8, u16, u32, u64, bool)",
        type_name => "a type",
        access_kind => "an access kind (rw, ro, wo, w1c, w1s, rclr)",
        bar_kind => "a BAR kind (io, mem32, mem64)",
        invalid_kind => "`ignore`, `ones` or `error`",
        irq_op => "`raise`, `lower` or `pulse`",
        assign_op => "an assignment (`=`, `|=`, `&=`, `^=`, `+=`, `-=`)",
        place => "a name",
        source => "a data source (random(..), pattern(..), word(..), or a buffer)",
        location => "a register name or `bar N @ OFFSET : TYPE`",
        device => "`device`",
        EOI => "end of file",
        k_access => "`access`",
        k_ack => "`ack`",
        k_addr => "`addr`",
        k_bar => "`bar`",
        k_class => "`class`",
        k_description => "`description`",
        k_device => "`device`",
        k_dma => "`dma`",
        k_dma_buffer => "`dma_buffer`",
        k_else => "`else`",
        k_expect => "`expect`",
        k_field => "`field`",
        k_fill => "`fill`",
        k_from => "`from`",
        k_hook => "`hook`",
        k_id => "`id`",
        k_if => "`if`",
        k_include => "`include`",
        k_interrupt => "`interrupt`",
        k_into => "`into`",
        k_invalid => "`invalid`",
        k_irq => "`irq`",
        k_language => "`language`",
        k_len => "`len`",
        k_level => "`level`",
        k_mask => "`mask`",
        k_msi => "`msi`",
        k_msix => "`msix`",
        k_pba => "`pba`",
        k_table => "`table`",
        k_on => "`on`",
        k_pattern => "`pattern`",
        k_pin => "`pin`",
        k_random => "`random`",
        k_read => "`read`",
        k_register => "`register`",
        k_revision => "`revision`",
        k_scenario => "`scenario`",
        k_size => "`size`",
        k_state => "`state`",
        k_status => "`status`",
        k_subsystem => "`subsystem`",
        k_wait => "`wait`",
        k_word => "`word`",
        k_write => "`write`",
        k_advance => "`advance`",
        k_after => "`after`",
        k_fn => "`fn`",
        k_input => "`input`",
        k_let => "`let`",
        k_output => "`output`",
        k_ready => "`ready`",
        k_repeat => "`repeat`",
        k_send => "`send`",
        k_start => "`start`",
        k_stop => "`stop`",
        k_stream => "`stream`",
        k_timer => "`timer`",
        k_vmm => "`vmm`",
        k_mine => "`mine`",
        k_when => "`when`",
        every_kw => "`every`",
        time_unit => "a time unit (ns, us, ms, s)",
        vmm_kind => "a VMM request (reset, poweroff, stop, panic, crashloaded)",
        sticky => "`sticky`",
        byte_data => "a string or `[bytes]`",
        byte_list => "a list of bytes (`[0x52, 0x54]`)",
        probe_location => "a register, a state or `bar N @ OFFSET : TYPE`",
        _ => return None,
    })
}

pub(super) fn syntax_hint(expected: &str) -> String {
    if expected.contains("`;`") {
        "every item and statement ends with `;`".into()
    } else if expected.contains("`}`") {
        "is a closing brace missing, or an item misspelled?".into()
    } else if expected == "`u8`" {
        // Only a buffer's element type expects exactly `u8`.
        "a buffer holds bytes (`[u8; N]`); read a wider value from its bytes, e.g. `b[i] | b[i + 1] << 8`".into()
    } else {
        "see the language reference in README.md".into()
    }
}
