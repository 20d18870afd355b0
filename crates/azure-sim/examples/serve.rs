//! Run the simulator until Ctrl-C (what `billing-engine azure-sim --port N` will do):
//! `cargo run -p be-azure-sim --example serve -- [PORT] [--demo]`

use be_azure_sim::{AzureSim, SimConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = args
        .iter()
        .find_map(|a| a.parse::<u16>().ok())
        .unwrap_or(8765);
    let seed_demo = args.iter().any(|a| a == "--demo");
    let sim = AzureSim::start(SimConfig {
        seed_demo,
        ..SimConfig::on_port(port)
    })
    .await?;
    println!("login (Entra ID):  {}", sim.login_url());
    println!("management (ARM):  {}", sim.management_url());
    println!("admin API:         {}", sim.admin_url());
    if let Some(d) = sim.demo() {
        println!("{}", serde_json::to_string_pretty(d)?);
    }
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
