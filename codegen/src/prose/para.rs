//! Sentences: a [`Para`] is a list of [`Inline`]s (words, code, register
//! references) so that each output format marks code up and links
//! registers its own way.

use pcidevc_dsl::ir::{Device, RegId};

/// A piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain words.
    Text(String),
    /// Code in the spec's notation (an expression, a value, a name).
    Code(String),
    /// A register, by id (formats link it to its description).
    Reg(RegId),
}

/// A sentence or short paragraph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Para(pub Vec<Inline>);

impl Para {
    /// An empty paragraph.
    pub fn new() -> Para {
        Para(Vec::new())
    }
    /// Appends words (merged with preceding words).
    pub fn text(mut self, t: impl Into<String>) -> Para {
        let t = t.into();
        if let Some(Inline::Text(prev)) = self.0.last_mut() {
            prev.push_str(&t);
        } else {
            self.0.push(Inline::Text(t));
        }
        self
    }
    /// Appends code in the spec's notation.
    pub fn code(mut self, c: impl Into<String>) -> Para {
        self.0.push(Inline::Code(c.into()));
        self
    }
    /// Appends a register reference (a link in the HTML and Markdown
    /// documents, its name in plain text).
    pub fn reg(mut self, r: RegId) -> Para {
        self.0.push(Inline::Reg(r));
        self
    }
    /// Appends `items` as a list: `a`, `b` and `c`.
    pub(super) fn list(mut self, items: Vec<Para>) -> Para {
        let n = items.len();
        for (i, it) in items.into_iter().enumerate() {
            if i > 0 {
                self = self.text(if i + 1 == n { " and " } else { ", " });
            }
            for x in it.0 {
                self = match x {
                    Inline::Text(t) => self.text(t),
                    other => {
                        self.0.push(other);
                        self
                    }
                };
            }
        }
        self
    }
    /// Plain text: code as is, registers by name.
    pub fn plain(&self, dev: &Device) -> String {
        self.0
            .iter()
            .map(|i| match i {
                Inline::Text(t) | Inline::Code(t) => t.clone(),
                Inline::Reg(r) => dev.register(*r).name.clone(),
            })
            .collect()
    }
    /// Has nothing been appended?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
