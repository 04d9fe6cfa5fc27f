//! `insitu:plugin/types` and `insitu:plugin/output`: interfaces of types only, which a plugin
//! imports for the types its `run` takes and returns. Nothing to call, no state: linking them
//! defines the instances a component's imports name.

use wasmtime::component::{HasData, Linker};

use super::super::bindings::insitu::plugin::{output, types};
use super::Capability;

/// `types` and `output`.
pub(crate) const CAPABILITY: Capability = Capability {
    link: |l| add_to_linker(l),
    state: super::stateless,
    finish: super::nothing,
};

/// Their [`HasData`], and the (empty) view their `Host` traits are implemented on.
pub struct TypesOnly;

impl HasData for TypesOnly {
    type Data<'a> = TypesOnly;
}

impl types::Host for TypesOnly {}
impl output::Host for TypesOnly {}

/// Adds `insitu:plugin/types` and `insitu:plugin/output` to `linker`.
pub fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    types::add_to_linker::<T, TypesOnly>(linker, |_| TypesOnly)?;
    output::add_to_linker::<T, TypesOnly>(linker, |_| TypesOnly)
}
