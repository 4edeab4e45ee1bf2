//! The audit log's vocabulary.

crate::stored_code! {
    /// How an audited action ended.
    pub enum Outcome {
        Ok => ("ok", "成功"),
        /// Refused: out of scope, not permitted, or a bad credential.
        Denied => ("denied", "拒绝"),
    }
}
