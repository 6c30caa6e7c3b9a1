//! The catalog as expressions read it: lists of names by key, shared.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::EvalAltResult;

/// The catalog as Rhai sees it: `catalog.macros.io_fim` and
/// `catalog.ticket_codes["000001"]` read through indexers, so putting it in
/// a scope copies a pointer, not every list.
#[derive(Debug, Clone, Default)]
pub struct Catalog(Arc<BTreeMap<String, BTreeMap<String, String>>>);

impl Catalog {
    /// The catalog's lists by name.
    pub fn new(lists: BTreeMap<String, BTreeMap<String, String>>) -> Self {
        Self(Arc::new(lists))
    }

    /// Every list, by name.
    pub fn lists(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.0
    }
}

/// One list of the catalog, by name.
#[derive(Debug, Clone)]
pub struct CatalogList {
    catalog: Catalog,
    name: String,
}

pub(super) fn catalog_list(catalog: &mut Catalog, name: &str) -> Result<CatalogList, Box<EvalAltResult>> {
    if catalog.0.contains_key(name) {
        Ok(CatalogList {
            catalog: catalog.clone(),
            name: name.to_string(),
        })
    } else {
        Err(format!("o catálogo não tem a lista `{name}`").into())
    }
}

pub(super) fn catalog_entry(list: &mut CatalogList, key: &str) -> Result<String, Box<EvalAltResult>> {
    list.catalog
        .0
        .get(&list.name)
        .and_then(|entries| entries.get(key))
        .cloned()
        .ok_or_else(|| format!("`catalog.{}.{key}` não está no catálogo", list.name).into())
}
