//! An upload as it arrives: the first bytes in memory, the rest written on to an unnamed
//! file in the files folder's `incoming` folder, so that uploads waiting for a decoder (or
//! cut off half-way) hold no memory. The file has no name on disk: the system removes it
//! when it is closed, after a crash too.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

/// Bytes an upload keeps in memory before it goes to a file: a phone's thumbnail or a
/// drawn paper never touches the disk.
const IN_MEMORY: usize = 256 * 1024;

/// Where uploads arriving are spooled: `incoming` in the files folder, whether the blobs
/// are kept there or in a bucket. A backup leaves it out.
pub fn spool_dir(files_dir: &Path) -> PathBuf {
    files_dir.join("incoming")
}

/// A file as uploaded: the name the browser gave and its bytes, in memory or spooled.
#[derive(Debug)]
pub struct Upload {
    pub name: String,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Memory(Vec<u8>),
    File { file: std::fs::File, len: u64 },
}

impl Upload {
    /// An upload whose bytes are already in memory (the demo's drawings, tests).
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Upload {
        Upload { name: name.into(), body: Body::Memory(bytes) }
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match &self.body {
            Body::Memory(bytes) => bytes.len() as u64,
            Body::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its bytes, read back into memory: blocking, for the decoder's thread. The caller
    /// has bounded the size ([`guanai_domain::files::MAX_UPLOAD_BYTES`]).
    pub(crate) fn into_bytes(self) -> std::io::Result<Vec<u8>> {
        match self.body {
            Body::Memory(bytes) => Ok(bytes),
            Body::File { mut file, len } => {
                let mut bytes = Vec::with_capacity(len as usize);
                file.seek(SeekFrom::Start(0))?;
                file.take(len).read_to_end(&mut bytes)?;
                Ok(bytes)
            }
        }
    }
}

/// An upload being received chunk by chunk ([`crate::handles::Files::spool`]).
pub struct Spool {
    name: String,
    dir: PathBuf,
    head: Vec<u8>,
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    len: u64,
}

impl Spool {
    pub(super) fn new(name: String, dir: PathBuf) -> Spool {
        Spool { name, dir, head: Vec::new(), file: None, len: 0 }
    }

    /// Bytes received so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a chunk: to memory while the upload is small, to its file after.
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.len += chunk.len() as u64;
        if self.file.is_none() && self.head.len() + chunk.len() <= IN_MEMORY {
            self.head.extend_from_slice(chunk);
            return Ok(());
        }
        if self.file.is_none() {
            let dir = self.dir.clone();
            let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
                .await
                .map_err(std::io::Error::other)??;
            let mut file = tokio::io::BufWriter::with_capacity(IN_MEMORY, tokio::fs::File::from_std(file));
            file.write_all(&std::mem::take(&mut self.head)).await?;
            self.file = Some(file);
        }
        self.file.as_mut().expect("opened above").write_all(chunk).await
    }

    /// The upload, complete.
    pub async fn finish(self) -> std::io::Result<Upload> {
        let body = match self.file {
            None => Body::Memory(self.head),
            Some(mut file) => {
                file.flush().await?;
                Body::File { file: file.into_inner().into_std().await, len: self.len }
            }
        };
        Ok(Upload { name: self.name, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn spooled(chunks: &[Vec<u8>], dir: &std::path::Path) -> Upload {
        let mut spool = Spool::new("a.jpg".into(), dir.to_owned());
        for chunk in chunks {
            spool.write(chunk).await.unwrap();
        }
        spool.finish().await.unwrap()
    }

    #[tokio::test]
    async fn a_small_upload_stays_in_memory_and_a_large_one_goes_to_a_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let small = spooled(&[vec![1; 1000], vec![2; 1000]], dir.path()).await;
        assert!(matches!(small.body, Body::Memory(_)));
        assert_eq!(small.into_bytes().unwrap(), [vec![1; 1000], vec![2; 1000]].concat());

        let chunks: Vec<Vec<u8>> = (0..40u8).map(|n| vec![n; 10_000]).collect();
        let large = spooled(&chunks, dir.path()).await;
        assert!(matches!(large.body, Body::File { .. }), "400 KB goes to a file");
        assert_eq!(large.len(), 400_000);
        assert_eq!(large.into_bytes().unwrap(), chunks.concat());
        // The file had no name: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
