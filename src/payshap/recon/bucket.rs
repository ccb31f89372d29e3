//! The S3 bucket Electrum and we exchange recon files through, via `object_store` (any
//! S3-compatible endpoint; path-style when an endpoint is given, as local servers need).

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::config::ElectrumReconConfig;

pub struct Bucket {
    store: Arc<dyn ObjectStore>,
}

impl Bucket {
    pub fn open(config: &ElectrumReconConfig) -> anyhow::Result<Self> {
        let secret = std::fs::read_to_string(&config.secret_access_key_file).map_err(|e| {
            anyhow::anyhow!("reading {}: {e}", config.secret_access_key_file.display())
        })?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(secret.trim());
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Self {
            store: Arc::new(builder.build()?),
        })
    }

    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(path), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The names of the files directly under `prefix` (a folder, ending in `/`).
    pub async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let folder = Path::from(prefix.trim_end_matches('/'));
        let listed = self.store.list_with_delimiter(Some(&folder)).await?;
        Ok(listed
            .objects
            .into_iter()
            .filter_map(|meta| meta.location.filename().map(str::to_owned))
            .collect())
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let found = self.store.get(&Path::from(path)).await?;
        Ok(found.bytes().await?.to_vec())
    }

    /// Every file's name and bytes under `prefix`, in name order.
    pub async fn files(&self, prefix: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        let mut names = self.list(prefix).await?;
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let bytes = self.get(&format!("{prefix}{name}")).await?;
            files.push((name, bytes));
        }
        Ok(files)
    }
}
