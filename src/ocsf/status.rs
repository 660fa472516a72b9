//! `status_id`, `status_code`, `status_detail` and `severity_id` from a DAS
//! event's `exitCode` (PostgreSQL SQLSTATE, MySQL errno, Oracle error number)
//! and `errorMessage`.

use super::activity::{Activity, CONNECT};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status_id: u8,
    pub status_code: Option<String>,
    pub status_detail: Option<String>,
    /// A failed login: SQLSTATE class 28, MySQL 1045, Oracle 1017, or a failed CONNECT.
    pub auth_failure: bool,
}

const SUCCESS: u8 = 1;
const FAILURE: u8 = 2;
const UNKNOWN: u8 = 0;

/// Five upper-case letters or digits. (A MySQL errno of five digits never starts
/// with 00, 01 or 02, so reading one as a SQLSTATE still gives Failure.)
fn is_sqlstate(code: &str) -> bool {
    code.len() == 5 && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// How to read `exitCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCodes {
    /// PostgreSQL SQLSTATE, MySQL errno, Oracle error number: 0 or class 00-02 is success.
    ZeroIsSuccess,
    /// SQL Server's audit `succeeded` flag: 1 is success, 0 failure.
    SucceededFlag,
}

/// `exit_code`: the text of `exitCode` (`None` for null or `""`); `exit_code_blank`:
/// it arrived as `""` (MySQL AUX); `error`: a non-empty `errorMessage`;
/// `has_error_field`: the record version carries `errorMessage` at all.
pub fn outcome(
    exit_code: Option<&str>,
    exit_code_blank: bool,
    error: Option<&str>,
    has_error_field: bool,
    activity: &Activity,
    codes: ExitCodes,
) -> Outcome {
    let code = exit_code.map(str::trim).filter(|c| !c.is_empty());
    let code_failed = code.map(|c| {
        if codes == ExitCodes::SucceededFlag {
            c != "1"
        } else if is_sqlstate(c) {
            // Classes 00 (success), 01 (warning) and 02 (no data) are not errors.
            !(c.starts_with("00") || c.starts_with("01") || c.starts_with("02"))
        } else {
            c.parse::<i64>() != Ok(0)
        }
    });
    let status_id = match (error.is_some(), code_failed) {
        (true, _) | (_, Some(true)) => FAILURE,
        (false, Some(false)) => SUCCESS,
        (false, None) if exit_code_blank => UNKNOWN,
        (false, None) if has_error_field => SUCCESS,
        (false, None) => UNKNOWN,
    };
    let auth_code = codes == ExitCodes::ZeroIsSuccess
        && code.is_some_and(|c| c.starts_with("28") && is_sqlstate(c) || c == "1045" || c == "1017");
    Outcome {
        status_id,
        status_code: code.map(str::to_owned),
        status_detail: error.map(str::to_owned),
        auth_failure: auth_code || (activity.id == CONNECT && status_id == FAILURE),
    }
}

/// 1 Informational; 2 Low for a failed statement; 3 Medium for a failed
/// login, a privilege or role change, or destructive DDL; 4 High for
/// dropping a database or schema.
pub fn severity(activity: &Activity, outcome: &Outcome) -> u8 {
    if activity.drops_database {
        4
    } else if outcome.auth_failure || activity.privilege_change || activity.destructive {
        3
    } else if outcome.status_id == FAILURE {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::super::activity::classify;
    use super::*;

    const Z: ExitCodes = ExitCodes::ZeroIsSuccess;

    #[test]
    fn sql_server_succeeded_flag() {
        let select = classify(Some("SELECT"), Some("TABLE"), None);
        let flag = ExitCodes::SucceededFlag;
        assert_eq!(outcome(Some("1"), false, None, true, &select, flag).status_id, SUCCESS);
        assert_eq!(outcome(Some("0"), false, None, true, &select, flag).status_id, FAILURE);
    }

    #[test]
    fn codes_and_messages() {
        let select = classify(Some("SELECT"), Some("READ"), None);
        let connect = classify(Some("CONNECT"), Some("MISC"), None);
        assert_eq!(outcome(None, false, None, true, &select, Z).status_id, SUCCESS);
        assert_eq!(outcome(None, false, None, false, &select, Z).status_id, UNKNOWN);
        assert_eq!(outcome(None, true, None, true, &select, Z).status_id, UNKNOWN);
        assert_eq!(outcome(Some("0"), false, None, true, &select, Z).status_id, SUCCESS);
        assert_eq!(outcome(Some("1064"), false, None, true, &select, Z).status_id, FAILURE);
        assert_eq!(outcome(Some("42P01"), false, Some("relation does not exist"), true, &select, Z).status_id, FAILURE);
        assert_eq!(outcome(Some("01000"), false, None, true, &select, Z).status_id, SUCCESS);
        let login = outcome(Some("28P01"), false, Some("password authentication failed"), true, &connect, Z);
        assert!(login.auth_failure);
        assert_eq!(severity(&connect, &login), 3);
        assert!(outcome(Some("1045"), false, None, true, &connect, Z).auth_failure);
        assert_eq!(severity(&select, &outcome(Some("1064"), false, None, true, &select, Z)), 2);
        let drop_db = classify(Some("DROP DATABASE"), Some("DDL"), None);
        assert_eq!(severity(&drop_db, &outcome(None, false, None, true, &drop_db, Z)), 4);
    }
}
