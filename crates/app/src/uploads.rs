//! Files the UI sends (the desktop window and the browser have no path to give): kept in the
//! data folder, where the page viewer renders them from, and removed with their document.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::AppError;

/// Largest file accepted through the UI (the library's own limit).
const MAX_UPLOAD_BYTES: usize = studydesk_engine::library::MAX_FILE_BYTES as usize;

/// Decodes and keeps an uploaded file under `dir`, in a folder named for its content.
pub fn save(dir: &Path, name: &str, data_base64: &str) -> Result<PathBuf, AppError> {
    let name = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .ok_or_else(|| AppError::Invalid(format!("{name:?} is not a file name")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data_base64.as_bytes())
        .map_err(|e| AppError::Invalid(format!("{name}: the upload is not base64 ({e})")))?;
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AppError::Invalid(format!(
            "{name}: the file is over {} MiB",
            MAX_UPLOAD_BYTES >> 20
        )));
    }
    let folder = dir.join(&studydesk_engine::sha256_hex(&bytes)[..12]);
    let path = folder.join(&name);
    std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&path, &bytes))
        .map_err(|error| AppError::Write {
            path: path.clone(),
            error,
        })?;
    Ok(path)
}

/// Deletes a file if it is a copy StudyDesk made of an upload (never a file of the user's).
pub fn forget(dir: &Path, path: &Path) {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if path.starts_with(&dir) {
        let _ = std::fs::remove_file(path);
        if let Some(folder) = path.parent() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}
