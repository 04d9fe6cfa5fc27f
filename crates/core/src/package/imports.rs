//! A component's imports, read without compiling it, against the manifest's `imports`: at pack,
//! so that a wrong list is named before the package is signed and shipped, not at install.
//!
//! A manifest declares each import as an interface (`insitu:plugin/data`) or as its whole
//! package (`wasi:io`), without versions; [`check_declared`] applies that rule at pack and at install.
//! The interfaces of [`NAMED_ONLY`] are the exception: declaring their package does not cover
//! them, so a plugin that imports one says so by name, for the consent screen to tell.

use std::collections::BTreeSet;

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload};

use super::{PROVIDED, PackageError};

/// Interfaces a manifest names one by one (declaring `insitu:plugin` does not cover them):
/// each tells the plugin something beyond the granted records, which the consent screen says
/// (`Manifest::describe`).
pub const NAMED_ONLY: &[&str] = &[CLOCK];

pub use insitu_model::manifest::CLOCK;

fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// What a manifest declares an import as: its package, or itself for [`NAMED_ONLY`].
fn declared_as(name: &str) -> &str {
    let u = unversioned(name);
    if NAMED_ONLY.contains(&u) {
        u
    } else {
        package_of(name)
    }
}

/// The component's top-level import names, such as `wasi:io/streams@0.2.6`, in file order.
/// Reads the binary's sections only: nothing is validated or compiled, so this is fast on any
/// size and cannot run guest code.
pub fn component_imports(bytes: &[u8]) -> Result<Vec<String>, PackageError> {
    let bad = |e: wasmparser::BinaryReaderError| PackageError::BadComponent(e.to_string());
    let mut names = Vec::new();
    // Nested modules and components have imports of their own, satisfied inside the component.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(bad)? {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } if depth == 0 => return Err(PackageError::CoreModule),
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(bad)?;
                    // A type import (`param`, from the world's `use output.{param}`) names a
                    // type of an imported interface, not something the host links.
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        names.push(import.name.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// The package of an import name: `wasi:io/streams@0.2.6` is in `wasi:io`.
pub fn package_of(name: &str) -> &str {
    let unversioned = name.split('@').next().unwrap_or(name);
    unversioned.split('/').next().unwrap_or(unversioned)
}

/// What a manifest's `imports` should say for a component with these imports: each package
/// once, and each [`NAMED_ONLY`] interface, sorted (the form the example plugins' manifests
/// use).
pub fn declared_for(actual: &[String]) -> Vec<String> {
    let packages: BTreeSet<&str> = actual.iter().map(|a| declared_as(a)).collect();
    packages.into_iter().map(String::from).collect()
}

/// The checks made at pack: every import is one the host provides ([`PROVIDED`]), and the
/// manifest's `imports` list exactly what the component imports ([`check_declared`]).
pub fn check_at_pack(declared: &[String], actual: &[String]) -> Result<(), PackageError> {
    let unprovided: BTreeSet<&str> = actual
        .iter()
        .map(|a| package_of(a))
        .filter(|p| !PROVIDED.contains(p))
        .collect();
    if !unprovided.is_empty() {
        return Err(PackageError::NotProvided(
            unprovided.into_iter().collect::<Vec<_>>().join(", "),
        ));
    }
    check_declared(declared, actual)
}

/// The manifest's `imports` against the component's actual imports, at pack and at install:
/// each actual import must be declared (as itself, without its version, or as its package),
/// and each declaration must be used. Each difference is named, with what to write.
pub fn check_declared(declared: &[String], actual: &[String]) -> Result<(), PackageError> {
    let covers = |d: &str, a: &str| unversioned(a) == d || declared_as(a) == d;
    let mut differences = Vec::new();
    // Undeclared imports, grouped by package: what to add to `imports`.
    let mut missing: Vec<(&str, Vec<String>)> = Vec::new();
    for a in actual
        .iter()
        .filter(|a| !declared.iter().any(|d| covers(d, a)))
    {
        let package = package_of(a);
        match missing.iter_mut().find(|(p, _)| *p == package) {
            Some((_, list)) => list.push(unversioned(a).to_string()),
            None => missing.push((package, vec![unversioned(a).to_string()])),
        }
    }
    for (package, interfaces) in missing {
        differences.push(format!(
            "the component imports {package} ({}) but the manifest does not list it",
            interfaces.join(", ")
        ));
    }
    for d in declared
        .iter()
        .filter(|d| !actual.iter().any(|a| covers(d, a)))
    {
        differences.push(format!(
            "the manifest lists {d} but the component does not import it"
        ));
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(PackageError::ImportsMismatch(format!(
        "{}\nhint: set \"imports\" to {:?}, or remove the field and pack fills it in",
        differences.join("; "),
        declared_for(actual)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_difference_is_named_with_what_to_write() {
        let actual = strings(&[
            "insitu:plugin/data@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:random/insecure-seed@0.2.6",
        ]);
        assert_eq!(
            declared_for(&actual),
            ["insitu:plugin", "wasi:io", "wasi:random"]
        );
        assert_eq!(
            check_at_pack(
                &strings(&["insitu:plugin/data", "wasi:io", "wasi:random"]),
                &actual
            ),
            Ok(())
        );
        let err = check_at_pack(&strings(&["insitu:plugin", "wasi:io", "wasi:cli"]), &actual)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "the component imports wasi:random (wasi:random/insecure-seed) but the manifest \
                 does not list it"
            ),
            "{err}"
        );
        assert!(
            err.contains("the manifest lists wasi:cli but the component does not import it"),
            "{err}"
        );
    }

    #[test]
    fn the_clock_is_declared_by_name_not_by_its_package() {
        let actual = strings(&["insitu:plugin/data@0.2.0", "insitu:plugin/clock@0.2.0"]);
        assert_eq!(
            declared_for(&actual),
            ["insitu:plugin", "insitu:plugin/clock"]
        );
        assert_eq!(check_at_pack(&declared_for(&actual), &actual), Ok(()));
        let err = check_at_pack(&strings(&["insitu:plugin"]), &actual)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "the component imports insitu:plugin (insitu:plugin/clock) but the manifest \
                 does not list it"
            ),
            "{err}"
        );
        // Naming the clock never stands for the rest of the package.
        let only_clock = strings(&["insitu:plugin/clock"]);
        assert!(check_at_pack(&only_clock, &actual).is_err());
        assert_eq!(
            check_at_pack(&only_clock, &strings(&["insitu:plugin/clock@0.2.0"])),
            Ok(())
        );
    }

    #[test]
    fn an_interface_the_host_never_links_is_refused_whatever_the_manifest_says() {
        let actual = strings(&["insitu:plugin/data@0.2.0", "wasi:sockets/tcp@0.2.6"]);
        let err = check_at_pack(&declared_for(&actual), &actual).unwrap_err();
        assert_eq!(err, PackageError::NotProvided("wasi:sockets".into()));
        assert!(err.to_string().contains("never provides"), "{err}");
    }

    #[test]
    fn a_core_module_or_junk_is_refused_with_the_reason() {
        assert_eq!(
            component_imports(b"\0asm\x01\0\0\0"),
            Err(PackageError::CoreModule)
        );
        assert!(matches!(
            component_imports(b"\0asm\x0d\0\x01\0\x0a\xff"),
            Err(PackageError::BadComponent(_))
        ));
    }
}
