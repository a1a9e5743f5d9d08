// Fixture of the remote-instance daemon tests: a real sshd on 127.0.0.1 is
// the "GPU instance", a library of resource cards whose commands run there
// with the real wget, curl and aria2c (and a civitdl stand-in) against the
// test HTTP server.
#pragma once

#include <fstream>

#include "daemon_fixture.hpp"
#include "support/test_sshd.hpp"

namespace haul::testing {

namespace fs = std::filesystem;

class DaemonRemoteTest : public DaemonTest {
 protected:
  using json = nlohmann::json;
  DaemonRemoteTest() {
    fs::create_directories(library());
    fs::create_directories(ui_home());
    lora = random_bytes(3u << 20, 51);
    checkpoint = random_bytes(2u << 20, 52);
    Resource slow;
    slow.body = lora;
    slow.rate = 2u << 20;  // over a second: progress frames
    server.add("/files/fusionx.safetensors", slow);
    server.add("/files/flux.safetensors", Resource{.body = checkpoint});
    vae = random_bytes(1u << 20, 53);
    server.add("/files/vae.safetensors", Resource{.body = vae});
    card("vae/wan_vae.md", "Wan VAE",
         "aria2c -x 4 -d \"$UI_HOME/models/vae\" -o wan_vae.safetensors " +
             server.url("/files/vae.safetensors"));
    card("loras/wan21_fusionx.md", "Wan 2.1 FusionX",
         "wget -P \"$UI_HOME\"/models/loras \\\n  " + server.url("/files/fusionx.safetensors"));
    card("checkpoints/flux_schnell.md", "Flux Schnell",
         "curl -fL -o \"$UI_HOME/models/checkpoints/flux.safetensors\" --create-dirs \\\n  " +
             server.url("/files/flux.safetensors"));
    card("loras/missing.md", "Missing LoRA",
         "wget -P \"$UI_HOME\"/models/loras " + server.url("/files/missing.safetensors"));
    card("misc/sleeper.md", "Sleeper", "sleep 3017 && touch \"$UI_HOME/woke\"");
    slow_model = random_bytes(4u << 20, 54);
    server.add("/files/slow.safetensors", Resource{.body = slow_model, .rate = 1u << 20});
    card("unet/slow.md", "Slow UNet",
         "wget -P \"$UI_HOME\"/models/unet " + server.url("/files/slow.safetensors"));
    // civitdl on the instance is the stand-in that prints civitdl's output.
    fs::create_directories(dir / "bin");
    fs::create_symlink(fs::path(HAUL_SOURCE_DIR) / "tests/support/civitdl-standin",
                       dir / "bin" / "civitdl");
    const std::string path = "PATH=" + shell_word((dir / "bin").string()) + ":$PATH ";
    card("loras/civit_lora.md", "Civit LoRA",
         path +
             "CIVITDL_STANDIN_SECONDS=1 civitdl \"https://civitai.com/models/1678575?"
             "modelVersionId=1900322\" \\\n  \"$UI_HOME/models/loras\"");
    card("loras/civit_locked.md", "Locked LoRA",
         path + "CIVITDL_STANDIN_EXIT_ZERO=1 civitdl 401 \"$UI_HOME/models/loras\"");
  }

  static std::string shell_word(const std::string& text) { return "'" + text + "'"; }

  fs::path library() const { return dir / "cards"; }
  fs::path ui_home() const { return dir / "instance home"; }

  void card(const std::string& path, const std::string& name, const std::string& script) {
    fs::create_directories((library() / path).parent_path());
    std::ofstream(library() / path) << "# " << name << "\n\nA card.\n\n# Download\n```bash\n"
                                    << script << "\n```\n";
  }

  std::unique_ptr<Daemon> start() {
    return start_daemon(
        {"--library", library().string(), "--known-hosts", sshd.known_hosts().string()});
  }

  json status_of(const Daemon& daemon, const std::string& instance) const {
    return daemon.call("GET", "/downloads/status?instance_id=" + instance).json();
  }

  TestSshd sshd;
  // A daemon stopped with `signal` while a card's wget runs: the restarted
  // daemon re-attaches to it; the file is fetched once, not twice.
  void restart_while_running(int signal) {
    auto daemon = start();
    const HttpReply registered = daemon->call(
        "POST", "/api/v1/instances",
        json{{"id", "gpu1"}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
            .dump());
    ASSERT_EQ(registered.status, 201) << registered.body;
    const json added = daemon->add({{"sources", {"unet/slow.md"}}, {"target", "gpu1"}});
    const std::string id = added.at("id");
    ASSERT_TRUE(eventually(
        [&] {
          const json job = daemon->job(id);
          return job.at("progress").get<double>() > 10;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(20)))
        << daemon->job(id).dump();
    if (signal == SIGTERM) {
      daemon->stop();
    } else {
      daemon->kill(signal);
    }
    daemon.reset();
    auto restarted = start();
    const json done = restarted->wait_for_state(id, "completed", std::chrono::seconds(20));
    ASSERT_EQ(done.at("state"), "completed") << done.dump() << restarted->log();
    EXPECT_EQ(read_file(ui_home() / "models/unet/slow.safetensors"), slow_model);
    EXPECT_FALSE(fs::exists(ui_home() / "models/unet/slow.safetensors.1"))
        << "wget ran a second time";
    EXPECT_EQ(server.requests_for("/files/slow.safetensors").size(), 1u);
    EXPECT_EQ(done.at("items")[0].at("progress"), 100) << done.dump();
    // The run's files on the instance are gone once the job is over.
    ASSERT_TRUE(eventually([&] { return !fs::exists(sshd.home() / ".cache/haul/runs" / id); },
                           std::chrono::seconds(5)));
  }

  std::string lora, checkpoint, vae, slow_model;
};

}  // namespace haul::testing
