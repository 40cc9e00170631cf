//! The pcidevc language: pest grammar, AST with spans, semantic checks, IR, diagnostics.
