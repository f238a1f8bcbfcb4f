//! Script assets: `.ark` files, loaded as source text. They are compiled
//! by the runtime (which owns the VM that compiles them) when they load.

use bevy::asset::io::Reader;
use bevy::asset::{Asset, AssetLoader, LoadContext};
use bevy::reflect::TypePath;

/// An Ark script's source, with the path it was loaded from.
#[derive(Asset, TypePath, Debug, Clone)]
pub struct ScriptAsset {
    pub path: String,
    pub source: String,
}

/// Loads `.ark` files.
#[derive(Default, TypePath)]
pub struct ScriptLoader;

impl AssetLoader for ScriptLoader {
    type Asset = ScriptAsset;
    type Settings = ();
    type Error = std::io::Error;

    async fn load(
        &self,
        reader: &mut dyn Reader,
        _settings: &(),
        load_context: &mut LoadContext<'_>,
    ) -> Result<ScriptAsset, std::io::Error> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await?;
        let path = load_context.path().to_string();
        let source = ark_vm::source_from_bytes(&path, bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(ScriptAsset { path, source })
    }

    fn extensions(&self) -> &[&str] {
        &["ark"]
    }
}
