#include "daemon_fixture.hpp"

#include <curl/curl.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace haul::testing {

namespace {

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

}  // namespace

HttpReply http_call(const std::string& method, const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    reply.status = static_cast<int>(status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

// Reads an SSE stream for `duration` and returns what arrived.
std::string read_sse(const std::string& url, std::chrono::milliseconds duration,
                     const std::vector<std::string>& headers) {
  std::string text;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(duration.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* u) {
        static_cast<std::string*>(u)->append(d, s * n);
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
  curl_easy_perform(curl);  // ends with a timeout: the stream is endless
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return text;
}

std::string read_sse_until(const std::string& url,
                           const std::function<bool(const std::vector<SseEvent>&)>& done,
                           std::chrono::milliseconds timeout,
                           const std::vector<std::string>& headers) {
  struct Reader {
    const std::function<bool(const std::vector<SseEvent>&)>* done;
    std::string text;
  } reader{&done, {}};
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* u) {
        auto* r = static_cast<Reader*>(u);
        r->text.append(d, s * n);
        // Returning less than given ends the transfer: the condition holds.
        return (*r->done)(parse_sse(r->text)) ? std::size_t{0} : s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reader);
  curl_easy_perform(curl);  // ends when `done` holds, or with a timeout
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reader.text;
}

std::string job_of(const SseEvent& event) {
  const auto data = event.data.find("data");
  if (data == event.data.end() || !data->is_object()) return {};
  const auto id = data->find("jobId");
  return id != data->end() && id->is_string() ? id->get<std::string>() : std::string();
}

std::vector<SseEvent> parse_sse(const std::string& whole) {
  std::vector<SseEvent> events;
  // Only complete events: a read may stop in the middle of one.
  const auto end = whole.rfind("\n\n");
  std::istringstream in(end == std::string::npos ? std::string() : whole.substr(0, end + 2));
  SseEvent current;
  bool any = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      if (any) events.push_back(current);
      current = {};
      any = false;
    } else if (line.rfind("id: ", 0) == 0) {
      current.id = std::stoull(line.substr(4));
      any = true;
    } else if (line.rfind("event: ", 0) == 0) {
      current.type = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      current.data = nlohmann::json::parse(line.substr(6));
    }
  }
  return events;
}

Daemon::Daemon(const std::filesystem::path& data_dir, const std::filesystem::path& models_root,
               std::vector<std::string> extra, std::vector<std::string> env)
    : data_dir_(data_dir) {
  std::filesystem::create_directories(models_root);
  std::vector<std::string> args = {
      "serve",           "--listen",      "127.0.0.1:0",       "--data-dir",
      data_dir.string(), "--models-root", models_root.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  process_ = std::make_unique<HaulProcess>(std::move(args), std::move(env));
  const std::regex serving("haul: serving on (http://[^\\s]+)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string out = process_->stdout_so_far();
    if (std::regex_search(out, match, serving)) {
      url_ = match[1];
      return;
    }
    if (process_->exited()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "haul serve did not start:\n" << process_->stderr_so_far();
}

Daemon::~Daemon() {
  if (process_ && !process_->exited()) stop();
}

HttpReply Daemon::call(const std::string& method, const std::string& path, const std::string& body,
                       const std::vector<std::string>& headers) const {
  return http_call(method, url_ + path, body, headers);
}

nlohmann::json Daemon::add(const nlohmann::json& job) const {
  const HttpReply reply = call("POST", "/api/v1/jobs", job.dump());
  EXPECT_TRUE(reply.status == 201 || reply.status == 200) << reply.status << " " << reply.body;
  return reply.json();
}

nlohmann::json Daemon::job(const std::string& id) const {
  return call("GET", "/api/v1/jobs/" + id).json();
}

nlohmann::json Daemon::wait_for_state(const std::string& id, const std::string& state,
                                      std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = job(id);
    const std::string now = last.value("state", "");
    if (now == state) return last;
    if (now == "completed" || now == "failed" || now == "cancelled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " did not reach " << state << ": " << last.dump();
  return last;
}

nlohmann::json Daemon::act(const std::string& id, const std::string& action,
                           std::chrono::milliseconds timeout) const {
  const HttpReply reply = call("POST", "/api/v1/jobs/" + id + "/" + action);
  EXPECT_TRUE(reply.status == 200 || reply.status == 202)
      << action << " " << id << ": " << reply.status << " " << reply.body;
  if (reply.status != 202) return reply.json();
  // A running job stops in the background; wait for the outcome.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last = reply.json();
  while (std::chrono::steady_clock::now() < deadline) {
    last = job(id);
    if (last["pending_action"].is_null()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << action << " of job " << id << " did not finish: " << last.dump();
  return last;
}

bool Daemon::wait_for_subscribers(int count, std::chrono::milliseconds timeout) const {
  const std::string line = "\nhaul_event_subscribers " + std::to_string(count) + "\n";
  return eventually([&] { return contains(call("GET", "/metrics").body, line); }, timeout,
                    std::chrono::milliseconds(20));
}

void Daemon::kill(int signal) { process_->signal(signal); }

HaulProcess::Outcome Daemon::stop() {
  process_->signal(SIGTERM);
  return process_->wait(std::chrono::seconds(30));
}

std::string Daemon::log() const { return read_file(data_dir_ / "logs" / "downloads.log"); }

}  // namespace haul::testing
