//! Which files of a folder are photos: `.jpg`, `.jpeg`, `.png` and `.webp`, recursively, in
//! name order (so every run walks a folder the same way).

use std::path::{Path, PathBuf};

/// A file as given, or a folder's photos (recursively, in name order).
pub fn photos_in(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => return vec![path.to_path_buf()],
    };
    entries.sort();
    entries
        .into_iter()
        .flat_map(|entry| {
            if entry.is_dir() {
                photos_in(&entry)
            } else if is_photo_name(&entry) {
                vec![entry]
            } else {
                Vec::new()
            }
        })
        .collect()
}

pub fn is_photo_name(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png" | "webp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_names_by_extension_in_any_case() {
        for name in ["a.jpg", "b.JPG", "c.jpeg", "d.png", "e.WebP"] {
            assert!(is_photo_name(Path::new(name)), "{name}");
        }
        for name in ["notes.txt", "raw.CR2", "jpg", ".DS_Store"] {
            assert!(!is_photo_name(Path::new(name)), "{name}");
        }
    }
}
