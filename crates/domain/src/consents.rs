//! Consents under PIPL, recorded per family.

crate::stored_code! {
    /// The kinds of consent a family gives.
    pub enum ConsentKind {
        /// 同意处理个人信息
        Processing => ("processing", "同意处理个人信息"),
        /// 同意向保险公司提供个人信息 (separate consent, PIPL art. 23)
        InsurerSharing => ("insurer_sharing", "同意向保险公司提供个人信息"),
        /// 监护人同意 for a child under 14 (PIPL art. 31); names the child.
        Guardian => ("guardian", "监护人同意（未满14周岁）"),
    }
}
