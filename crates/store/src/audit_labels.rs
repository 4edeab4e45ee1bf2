//! What the audit log's codes mean, in the words auditors read: one table of actions, and
//! who the system actor and the command line are. Codes stay in the database (they are
//! what searches and exports filter on); pages and exports show these labels.

/// The action of a call refused by the store's permission check (`Store::require`).
pub const PERMISSION_ACTION: &str = "permission";

/// Every action the code writes to the audit log, with its label. An action missing here
/// still shows in Chinese ([`action_label`] falls back to a generic label).
pub const ACTIONS: &[(&str, &str)] = &[
    ("login", "登录"),
    ("logout", "退出登录"),
    ("csrf", "请求校验失败（疑似跨站请求）"),
    ("api.call", "调用接口"),
    ("page.view", "打开页面"),
    (PERMISSION_ACTION, "无权限的操作"),
    ("audit.export", "导出审计日志"),
    ("calendar.edit", "修改工作日历"),
    ("claim.advance", "理赔先予支付"),
    ("claim.decide", "理赔核定"),
    ("claim.paper", "登记理赔材料"),
    ("claim.papers_request", "一次性告知补充理赔材料"),
    ("claim.pay", "登记理赔赔付"),
    ("claim.report", "理赔报案"),
    ("claim.satisfaction", "登记理赔满意度"),
    ("claim.view", "查看理赔案件"),
    ("consent.record", "登记授权同意"),
    ("consent.withdraw", "撤回授权同意"),
    ("coverage.lookup", "查询参保情况"),
    ("family.create", "新建家庭档案"),
    ("file.delete", "删除上传的文件"),
    ("file.list", "查看上传的文件列表"),
    ("file.upload", "上传文件"),
    ("file.view", "查看上传的文件"),
    ("family.export", "导出家庭名单"),
    ("family.register_batch", "批量登记家庭"),
    ("family.reveal_phone", "查看完整手机号"),
    ("family.view", "查看家庭档案"),
    ("funding.create", "新增资金来源"),
    ("funding.export", "导出资金台账"),
    ("funding.receipt", "登记资金到账"),
    ("funding.rule", "新增资助规则"),
    ("funding.view", "查看资金来源"),
    ("import.commit", "导入花名册"),
    ("import.report", "下载未导入的行"),
    ("import.upload", "上传花名册"),
    ("import.view", "查看导入任务"),
    ("org.view", "查看机构"),
    ("outbox.opt_out", "登记家庭退订消息"),
    ("outbox.remind", "写入续保提醒"),
    ("package.create", "新增保障方案"),
    ("person.create", "新增家庭成员"),
    ("person.event", "登记人员变动"),
    ("person.move", "人员迁入其他家庭"),
    ("person.reveal_id", "查看完整身份证号"),
    ("person.view", "查看人员"),
    ("policy.cancel", "撤销保单"),
    ("policy.certificate", "打印保险凭证"),
    ("policy.create", "新建保单"),
    ("policy.enrol_batch", "批量参保"),
    ("policy.export", "导出保单清单"),
    ("policy.export_underwriting", "导出承保清单"),
    ("policy.gift", "送保"),
    ("policy.import_return", "导入保险公司回传文件"),
    ("policy.payment", "登记家庭缴费"),
    ("policy.refuse", "拒保"),
    ("policy.renew", "续保"),
    ("policy.submit", "提交承保"),
    ("policy.underwrite", "承保"),
    ("policy.underwrite_batch", "批量承保"),
    ("policy.view", "查看保单"),
    ("product.create", "新增险种"),
    ("region.view", "查看区划"),
    ("report.export", "导出统计报表"),
    ("report.view", "查看统计报表"),
    ("bulletin.export", "下载通报"),
    ("target.set", "设定任务指标"),
    ("target.view", "查看任务指标"),
    ("renewal.batch", "批量续保"),
    ("renewal.export", "导出待续保清单"),
    ("renewal.follow_up", "登记脱保跟进结果"),
    ("renewal.hand_over", "移交脱保跟进任务"),
    ("renewal.lapses", "生成脱保跟进任务"),
    ("user.create", "新建用户"),
    ("user.password", "修改密码"),
    ("user.password_reset", "重置密码"),
    ("user.view", "查看用户"),
    ("activity.create", "登记宣传活动"),
    ("activity.report", "查看宣传活动统计"),
    ("activity.view", "查看宣传活动"),
    ("agent.create", "登记服务专员"),
    ("agent.handover", "服务专员离任交接"),
    ("agent.reveal_phone", "查看服务专员完整手机号"),
    ("agent.view", "查看服务专员"),
    ("student_aid.apply", "登记助学申请"),
    ("student_aid.review", "审核助学申请"),
    ("student_aid.view", "查看助学申请"),
    ("supervision.action", "新增督导整改事项"),
    ("supervision.create", "登记联合督导"),
    ("supervision.done", "完成督导整改事项"),
    ("supervision.view", "查看督导记录"),
    ("training.certificate", "打印培训证书"),
    ("training.create", "登记培训"),
    ("training.scores", "登记培训成绩"),
    ("training.sign_in", "培训签到"),
    ("training.view", "查看培训"),
];

/// What an action code means; an unknown one (written by a newer version, say) reads
/// "其他操作", with the code shown beside it in small print by the pages.
pub fn action_label(code: &str) -> &'static str {
    ACTIONS.iter().find(|(c, _)| *c == code).map(|(_, label)| *label).unwrap_or(OTHER_ACTION)
}

/// Whether `code` has a label of its own in [`ACTIONS`].
pub fn is_known_action(code: &str) -> bool {
    ACTIONS.iter().any(|(c, _)| *c == code)
}

/// The label of an action without one of its own.
pub const OTHER_ACTION: &str = "其他操作";

/// The user name the command line and background jobs act under (`Actor::system`); no
/// account can take it (`guanai_domain::Username` refuses it).
pub use guanai_domain::users::SYSTEM_USERNAME;

/// How the system actor is shown wherever a user name would be.
pub const SYSTEM_LABEL: &str = "系统";

/// The address the command line and background jobs act from.
pub const CLI_ADDRESS: &str = "cli";

/// A user name as people read it: the system actor by its Chinese label.
pub fn shown_username(name: &str) -> &str {
    if name == SYSTEM_USERNAME {
        SYSTEM_LABEL
    } else {
        name
    }
}

/// An address as people read it: the command line, and an address the server could not
/// learn, by their Chinese labels.
pub fn shown_address(ip: &str) -> &str {
    match ip {
        CLI_ADDRESS => "本机命令行",
        "unknown" | "" => "未知",
        _ => ip,
    }
}

/// Whose personal data an entry concerns, as people read it: `family:12` is 家庭 12,
/// `person:5` 人员 5.
pub fn shown_subject(subject: &str) -> String {
    match subject.split_once(':') {
        Some(("family", id)) => format!("家庭 {id}"),
        Some(("person", id)) => format!("人员 {id}"),
        _ => subject.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_chinese_label() {
        for (i, (code, label)) in ACTIONS.iter().enumerate() {
            assert!(!ACTIONS[..i].iter().any(|(c, _)| c == code), "{code} twice");
            assert!(!label.is_ascii(), "{code}: {label}");
        }
        assert_eq!(action_label("policy.underwrite_batch"), "批量承保");
        assert_eq!(action_label("claim.approve"), OTHER_ACTION);
        assert!(is_known_action("login") && !is_known_action("claim.approve"));
        assert_eq!(shown_username("system"), SYSTEM_LABEL);
        assert_eq!(shown_username("demo.city"), "demo.city");
        assert_eq!(shown_address("cli"), "本机命令行");
        assert_eq!(shown_address("10.0.0.1"), "10.0.0.1");
        assert_eq!(shown_subject("family:12"), "家庭 12");
        assert_eq!(shown_subject("person:5"), "人员 5");
    }
}
