//! The capabilities: each interface the host provides to a plugin, as one module with its own
//! per-run state, its own view of the run, and its own linking.
//!
//! A capability module holds:
//! - its per-run state (`DataAccess` for `data`, `ClockState` for `clock`, the locked
//!   `WasiCtx` for WASI; none for `log`, `types` and `output`);
//! - a [`HasData`](wasmtime::component::HasData) marker whose data is its view: a [`View`] of
//!   its state and of the run's [`Shared`] part;
//! - the interface's `Host` trait implemented on that view, never on the run's store data;
//! - `add_to_linker(linker, getter)`, as wasmtime's generated bindings take it.
//!
//! [`ALL`] lists them, each with how it is linked and how its state for one run is made from
//! the run's [`RunInputs`]: the sandbox links each one, and builds each one's state for a run,
//! by walking that list. The store data of a run ([`super::RunState`]) holds the states in a
//! small type map ([`Caps`]) and never names a capability, so adding one edits neither it, nor
//! [`super::Sandbox::execute`]'s signature, nor the runner.
//!
//! What every capability shares is [`Shared`]: the resource table, the fuel meter
//! ([`super::fuel::HostMeter`]), the usage counters and the run's log. Each host function
//! charges its call there exactly as before (`HostCosts::call` per call, the data's work in
//! `data.rs`), and the store's call hook takes the fuel from it.
//!
//! May touch: the run's store data, through the views; what each capability's state reaches.

pub mod clock;
pub mod data;
pub mod log;
pub mod output;
pub(crate) mod wasi;

use std::any::Any;

use wasmtime::component::{Linker, ResourceTable};

use self::log::LogSink;
use super::fuel::HostMeter;
use super::{Execution, RunState};
use insitu_model::meter::Usage;

/// The part of a run every capability reaches.
pub struct Shared {
    /// Resources every interface's handles live in (WASI streams, `data` queries).
    pub table: ResourceTable,
    /// What the current host call owes in fuel.
    pub meter: HostMeter,
    pub usage: Usage,
    /// The run's capped log: stdout, stderr and `log`.
    pub log: LogSink,
}

/// A capability's view of a run: its own state, and the shared part. What its `Host` traits
/// are implemented on.
pub struct View<'a, S> {
    pub state: &'a mut S,
    pub run: &'a mut Shared,
}

/// The capabilities' states for one run, one per entry of [`ALL`], found by type.
pub struct Caps(Vec<Box<dyn Any + Send>>);

impl Caps {
    /// The state of type `S`. Every linked capability has one: both come from [`ALL`].
    pub fn get<S: Any>(&mut self) -> &mut S {
        self.0
            .iter_mut()
            .find_map(|s| s.downcast_mut::<S>())
            .expect("each capability in cap::ALL has its state in the run")
    }
}

/// What a run is given beyond its limits and parameters, by type: the data access
/// ([`data::DataAccess`]) and the as-of date ([`clock::AsOf`]) today. Each capability takes
/// its own input when the run's states are built.
#[derive(Default)]
pub struct RunInputs(Vec<Box<dyn Any + Send>>);

impl RunInputs {
    pub fn new() -> Self {
        RunInputs::default()
    }

    /// These inputs with `input` added (replacing one of the same type).
    pub fn with<I: Any + Send>(mut self, input: I) -> Self {
        let _ = self.take::<I>();
        self.0.push(Box::new(input));
        self
    }

    /// Takes the input of type `I`, if it was given.
    pub fn take<I: Any>(&mut self) -> Option<I> {
        let at = self.0.iter().position(|i| i.is::<I>())?;
        self.0.swap_remove(at).downcast::<I>().ok().map(|b| *b)
    }
}

impl From<data::DataAccess> for RunInputs {
    fn from(data: data::DataAccess) -> Self {
        RunInputs::new().with(data)
    }
}

/// A capability's state for one run, built from the run's inputs (`None`: it keeps none).
pub(crate) type State = anyhow::Result<Option<Box<dyn Any + Send>>>;

/// One entry of [`ALL`].
pub(crate) struct Capability {
    /// Adds its interfaces to the linker (one line: its `add_to_linker` with the getter).
    pub link: fn(&mut Linker<RunState>) -> wasmtime::Result<()>,
    /// Its state for one run, from the run's inputs.
    pub state: fn(&mut RunInputs, &Shared) -> State,
    /// Moves what the run produced into the run's result.
    pub finish: fn(&mut Caps, &mut Execution),
}

/// Every capability the host provides. A component may import only these (the package
/// rule is `insitu_model::manifest::PROVIDED`, in `insitu-core`'s `package::imports`).
pub(crate) const ALL: &[Capability] = &[
    wasi::CAPABILITY,
    output::CAPABILITY,
    data::CAPABILITY,
    log::CAPABILITY,
    clock::CAPABILITY,
];

/// The getter every capability with state is linked with.
pub(crate) fn view<S: Any>(s: &mut RunState) -> View<'_, S> {
    View {
        state: s.caps.get::<S>(),
        run: &mut s.run,
    }
}

/// The getter of a capability without state.
pub(crate) fn shared(s: &mut RunState) -> &mut Shared {
    &mut s.run
}

/// Links every capability.
pub(crate) fn link(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    ALL.iter().try_for_each(|c| (c.link)(linker))
}

/// The states of every capability for one run.
pub(crate) fn states(mut inputs: RunInputs, run: &Shared) -> anyhow::Result<Caps> {
    let mut caps = Vec::with_capacity(ALL.len());
    for c in ALL {
        caps.extend((c.state)(&mut inputs, run)?);
    }
    Ok(Caps(caps))
}

/// A capability's `finish` when the run produces nothing for it to hand back.
pub(crate) fn nothing(_: &mut Caps, _: &mut Execution) {}

/// A capability's `state` when it keeps none.
pub(crate) fn stateless(_: &mut RunInputs, _: &Shared) -> State {
    Ok(None)
}

/// After the run: each capability's `finish`.
pub(crate) fn finish(caps: &mut Caps, exec: &mut Execution) {
    for c in ALL {
        (c.finish)(caps, exec);
    }
}
