#include "cli/js_util.h"

#include "cli/columns.h"

#include <openssl/evp.h>

#include <ctime>

#include "cli/format.h"

namespace nats::cli {

std::string base64_decode(const std::string& in) {
  if (in.empty()) return "";
  std::string out(in.size() * 3 / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string base64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_header_block(const std::string& block) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = block.find("\r\n");
  if (pos == std::string::npos) return out;
  pos += 2;
  while (pos < block.size()) {
    size_t e = block.find("\r\n", pos);
    if (e == std::string::npos) e = block.size();
    std::string line = block.substr(pos, e - pos);
    pos = e + 2;
    if (line.empty()) break;
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string v = line.substr(c + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    out.emplace_back(line.substr(0, c), v);
  }
  return out;
}

std::string StoredMsg::header(const std::string& k) const {
  for (auto& [hk, hv] : headers)
    if (hk == k) return hv;
  return "";
}

bool get_stored(Connection& c, const std::string& stream, const nlohmann::json& req, StoredMsg& out) {
  nlohmann::json r;
  try {
    r = js_api(c, "STREAM.MSG.GET." + stream, req);
  } catch (const CliError& e) {
    std::string w = e.what();
    if (w.find("(10037)") != std::string::npos || w.find("no message found") != std::string::npos) return false;
    throw;
  }
  const auto& m = r["message"];
  out.subject = m.value("subject", "");
  out.seq = m.value("seq", 0ULL);
  out.time = m.value("time", "");
  out.data = base64_decode(m.value("data", ""));
  out.headers = parse_header_block(base64_decode(m.value("hdrs", "")));
  return true;
}

nlohmann::json js_publish(Connection& c, const std::string& subj, const std::string& data,
                          const std::vector<std::pair<std::string, std::string>>& hdrs) {
  MsgPtr reply;
  try {
    reply = request(c, subj, data, hdrs);
  } catch (const CliError& e) {
    if (std::string(e.what()).find("no responders") != std::string::npos)
      throw CliError("nats: no response from stream");
    throw;
  }
  nlohmann::json ack;
  try {
    ack = nlohmann::json::parse(reply.data());
  } catch (const std::exception&) {
    throw CliError("invalid publish acknowledgement: " + reply.data());
  }
  if (ack.contains("error")) {
    auto& e = ack["error"];
    throw CliError(e.value("description", "publish failed") + " (" + std::to_string(e.value("err_code", 0)) + ")");
  }
  return ack;
}

std::string local_time(const std::string& rfc3339) {
  int64_t ns = parse_rfc3339(rfc3339);
  if (ns == 0) return rfc3339;
  std::time_t t = static_cast<std::time_t>(ns / 1000000000LL);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::vector<std::string> split_list(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (auto& s : in) {
    std::string cur;
    for (char ch : s) {
      if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::vector<std::string> stream_names(Connection& c, const std::string& subject_filter) {
  std::vector<std::string> names;
  int64_t offset = 0;
  while (true) {
    nlohmann::json req = {{"offset", offset}};
    if (!subject_filter.empty()) req["subject"] = subject_filter;
    auto r = js_api(c, "STREAM.NAMES", req);
    if (!r.contains("streams") || !r["streams"].is_array() || r["streams"].empty()) break;
    for (auto& n : r["streams"]) names.push_back(n.get<std::string>());
    offset += static_cast<int64_t>(r["streams"].size());
    if (offset >= r.value("total", 0)) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json republish_from_flags(const Invocation& inv) {
  if (!inv.has("republish-destination")) {
    if (inv.has("republish-source") || inv.on("republish-headers"))
      throw CliError("--republish-destination is required with --republish-source or --republish-headers");
    return nullptr;
  }
  nlohmann::json rp = {{"src", inv.get("republish-source")}, {"dest", inv.get("republish-destination")}};
  if (inv.on("republish-headers")) rp["headers_only"] = true;
  return rp;
}

void add_republish_line(Columns& cols, const nlohmann::json& cfg) {
  auto it = cfg.find("republish");
  if (it == cfg.end() || !it->is_object()) return;
  bool headers = it->value("headers_only", false);
  cols.add(headers ? "Republishing Headers" : "Republishing", it->value("src", "") + " to " + it->value("dest", ""));
}

std::vector<FlagSpec> republish_flags() {
  return {{"republish-source", 0, false, "Republish messages to --republish-destination", "", ""},
          {"republish-destination", 0, false, "Republish destination for messages in --republish-source", "", ""},
          {"republish-headers", 0, true, "Republish only message headers, no bodies", "", ""}};
}

}  // namespace nats::cli
