//! Organisations: association units (市/县/乡 计生协) and insurer branches (分公司/支公司).

crate::stored_code! {
    /// What an organisation is.
    pub enum OrgKind {
        /// 计生协会 at city, county or township level.
        Association => ("association", "计生协会"),
        /// 保险公司: the city branch (分公司) or a county sub-branch (支公司).
        Insurer => ("insurer", "保险公司"),
    }
}
