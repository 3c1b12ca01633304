//! vault-agent: counts what each pod sends and receives, by remote address.

fn main() -> anyhow::Result<()> {
    Ok(())
}
