//! File downloads, for the pages and the API: a spreadsheet or a CSV file handed to the
//! browser under its Chinese name.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::files::disposition;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// An `.xlsx` download named `file_name`; `ascii_name` for browsers that ignore `filename*`.
pub fn xlsx(file_name: &str, ascii_name: &str, bytes: Vec<u8>) -> Response {
    attachment(XLSX, file_name, ascii_name, Body::from(bytes))
}

/// A Word document (`.docx`) download, named as [`xlsx`] names its file.
pub fn docx(file_name: &str, ascii_name: &str, bytes: Vec<u8>) -> Response {
    attachment(DOCX, file_name, ascii_name, Body::from(bytes))
}

/// A CSV download (the body may be a stream), named as [`xlsx`] names its file.
pub fn csv(file_name: &str, ascii_name: &str, body: Body) -> Response {
    attachment(CSV, file_name, ascii_name, body)
}

fn attachment(content_type: &'static str, file_name: &str, ascii_name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition("attachment", file_name, ascii_name)),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spreadsheet_is_an_attachment_under_its_chinese_name_and_an_ascii_one() {
        let response = xlsx("承保 清单(2026).xlsx", "underwriting.xlsx", vec![1, 2, 3]);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], XLSX);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            headers[header::CONTENT_DISPOSITION],
            "attachment; filename=\"underwriting.xlsx\"; \
             filename*=UTF-8''%E6%89%BF%E4%BF%9D%20%E6%B8%85%E5%8D%95%282026%29.xlsx"
        );
    }

    #[test]
    fn the_ascii_name_cannot_break_out_of_its_quotes() {
        assert_eq!(
            disposition("attachment", "a.csv", "a\"b\\c\r\n.csv"),
            "attachment; filename=\"abc.csv\"; filename*=UTF-8''a.csv"
        );
    }

    #[test]
    fn a_csv_file_says_so() {
        let response = csv("audit.csv", "audit.csv", Body::empty());
        assert_eq!(response.headers()[header::CONTENT_TYPE], CSV);
    }
}
