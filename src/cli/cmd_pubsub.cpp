// Core messaging commands: pub, sub, request, reply — with natscli's log lines and layout.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <sys/wait.h>
#include <thread>

#include "cli/command.h"
#include "cli/connection.h"
#include "cli/format.h"
#include "cli/template.h"

namespace nats::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
void install_signals() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

void log_line(const std::string& s) { std::cout << log_prefix() << s << std::endl; }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// natscli's outPutMSGBody: body, then a blank line (two when the body lacks a newline).
void output_body(const std::string& data) {
  if (data.empty()) {
    std::cout << "nil body\n\n\n";
    return;
  }
  std::cout << data;
  if (data.back() != '\n') std::cout << "\n";
  std::cout << "\n";
  if (data.back() != '\n') std::cout << "\n";
  std::cout.flush();
}

std::string read_stdin_body(const Invocation& inv, bool body_set) {
  if (body_set) return inv.arg(1);
  if (inv.on("force-stdin") || isatty(STDOUT_FILENO)) {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  return "";
}

natsMsg* make_msg(const std::string& subj, const std::string& reply, const std::string& body) {
  natsMsg* m = nullptr;
  check(natsMsg_Create(&m, subj.c_str(), reply.empty() ? nullptr : reply.c_str(), body.data(),
                       static_cast<int>(body.size())));
  return m;
}

int pub(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string body_tpl = read_stdin_body(inv, inv.args.size() > 1);
  int64_t count = inv.integer("count", 1);
  if (count < 1) count = 32767;
  int64_t sleep_ns = 0;
  if (inv.has("sleep") && !parse_duration(inv.get("sleep"), sleep_ns)) throw CliError("invalid --sleep");
  bool quiet = inv.on("quiet");
  for (int64_t i = 1; i <= count && !g_stop; ++i) {
    std::string body = expand_template(body_tpl, static_cast<int>(i));
    std::string subj = expand_template(inv.arg(0), static_cast<int>(i));
    natsMsg* m = make_msg(subj, inv.get("reply"), body);
    std::vector<std::string> hdrs;
    for (auto& h : inv.all("header")) hdrs.push_back(expand_template(h, static_cast<int>(i)));
    try {
      apply_headers(m, hdrs, static_cast<int>(i));
    } catch (...) {
      natsMsg_Destroy(m);
      throw;
    }
    natsStatus s = natsConnection_PublishMsg(c.get(), m);
    natsMsg_Destroy(m);
    check(s);
    check(natsConnection_FlushTimeout(c.get(), c.settings().timeout_ns / 1000000));
    if (!quiet && count <= 20) log_line("Published " + std::to_string(body.size()) + " bytes to " + quote(inv.arg(0)));
    if (sleep_ns > 0 && count > 1) std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
  }
  if (!quiet && count > 20) log_line("Published " + std::to_string(count) + " messages to " + quote(inv.arg(0)));
  return 0;
}

int request_cmd(Invocation& inv) {
  Connection c(resolve_settings(inv));
  std::string body_tpl = read_stdin_body(inv, inv.args.size() > 1);
  int64_t count = inv.integer("count", 1);
  if (count < 1) count = 1;
  int64_t replies = inv.integer("replies", 1);
  int64_t reply_timeout = 300000000;
  if (inv.has("reply-timeout") && !parse_duration(inv.get("reply-timeout"), reply_timeout))
    throw CliError("invalid --reply-timeout");
  bool raw = inv.on("raw");
  for (int64_t i = 1; i <= count; ++i) {
    if (!raw) log_line("Sending request on " + quote(inv.arg(0)));
    std::string inbox = c.new_inbox();
    natsSubscription* sub = nullptr;
    check(natsConnection_SubscribeSync(&sub, c.get(), inbox.c_str()));
    natsMsg* m = make_msg(expand_template(inv.arg(0), static_cast<int>(i)), inbox,
                          expand_template(body_tpl, static_cast<int>(i)));
    try {
      apply_headers(m, inv.all("header"), static_cast<int>(i));
    } catch (...) {
      natsMsg_Destroy(m);
      natsSubscription_Destroy(sub);
      throw;
    }
    auto start = std::chrono::steady_clock::now();
    natsStatus s = natsConnection_PublishMsg(c.get(), m);
    natsMsg_Destroy(m);
    if (s != NATS_OK) { natsSubscription_Destroy(sub); fail(s); }
    int64_t timeout_ns = c.settings().timeout_ns;
    int64_t rtt_sum = 0;
    int rc = 0;
    std::string err;
    while (true) {
      natsMsg* r = nullptr;
      s = natsSubscription_NextMsg(&r, sub, std::max<int64_t>(1, timeout_ns / 1000000));
      if (s == NATS_TIMEOUT) {
        if (rc == 0) err = status_text(NATS_TIMEOUT);
        break;
      }
      if (s == NATS_NO_RESPONDERS) { err = status_text(s); break; }
      if (s != NATS_OK) { err = status_text(s); break; }
      MsgPtr reply(r);
      if (natsMsg_IsNoResponders(r)) { err = status_text(NATS_NO_RESPONDERS); break; }
      int64_t rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
      if (!raw) {
        log_line("Received with rtt " + go_duration(rtt));
        auto hdrs = headers_of(r);
        for (auto& [k, v] : hdrs) log_line(k + ": " + v);
        if (!hdrs.empty()) log_line("");
      }
      output_body(reply.data());
      ++rc;
      if (replies > 0 && rc == replies) break;
      if (replies == 0) {
        timeout_ns = c.settings().timeout_ns - rtt;
        if (timeout_ns <= 0) break;
      } else {
        rtt_sum += rtt;
        timeout_ns = rtt_sum / rc + reply_timeout;
      }
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (!err.empty()) throw CliError(err);
  }
  return 0;
}

int sub_cmd(Invocation& inv) {
  install_signals();
  Connection c(resolve_settings(inv));
  std::string subject = inv.arg(0);
  std::string queue = inv.get("queue");
  int64_t limit = inv.integer("count", 0);
  bool raw = inv.on("raw");
  natsSubscription* sub = nullptr;
  if (queue.empty()) check(natsConnection_SubscribeSync(&sub, c.get(), subject.c_str()));
  else check(natsConnection_QueueSubscribeSync(&sub, c.get(), subject.c_str(), queue.c_str()));
  natsSubscription_SetPendingLimits(sub, -1, -1);
  check(natsConnection_FlushTimeout(c.get(), c.settings().timeout_ns / 1000000));
  if (!raw) {
    if (queue.empty()) log_line("Subscribing on " + subject);
    else log_line("Subscribing on " + subject + " in group " + queue);
  }
  int64_t n = 0;
  while (!g_stop) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 200);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) { natsSubscription_Destroy(sub); fail(s); }
    MsgPtr msg(m);
    ++n;
    std::string data = msg.data();
    if (raw) {
      std::cout << data << std::endl;
    } else {
      const char* reply = natsMsg_GetReply(m);
      std::cout << "[#" << n << "] Received on " << quote(natsMsg_GetSubject(m));
      if (reply && *reply) std::cout << " with reply " << quote(reply);
      std::cout << "\n";
      auto hdrs = headers_of(m);
      for (auto& [k, v] : hdrs) std::cout << k << ": " << v << "\n";
      if (!hdrs.empty()) std::cout << "\n";
      std::cout << data << "\n";
      if (data.empty() || data.back() != '\n') std::cout << "\n";
      std::cout.flush();
    }
    if (limit > 0 && n >= limit) break;
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return 0;
}

std::string run_command(const std::string& cmd, const std::string& subject, const std::string& body) {
  setenv("NATS_REQUEST_SUBJECT", subject.c_str(), 1);
  setenv("NATS_REQUEST_BODY", body.c_str(), 1);
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  int st = pclose(p);
  if (st != 0) log_line("Command " + quote(cmd) + " failed to run: exit status " + std::to_string(WEXITSTATUS(st)));
  return out;
}

int reply_cmd(Invocation& inv) {
  install_signals();
  Connection c(resolve_settings(inv));
  std::string subject = inv.arg(0);
  std::string body_tpl = inv.arg(1);
  std::string command = inv.get("command");
  std::string queue = inv.get("queue", "NATS-RPLY-22");
  bool echo = inv.on("echo");
  int64_t limit = inv.integer("count", 0);
  if (body_tpl.empty() && command.empty() && !echo) {
    log_line("No body or command supplied, enabling echo mode");
    echo = true;
  }
  natsSubscription* sub = nullptr;
  check(natsConnection_QueueSubscribeSync(&sub, c.get(), subject.c_str(), queue.c_str()));
  natsSubscription_SetPendingLimits(sub, -1, -1);
  check(natsConnection_FlushTimeout(c.get(), c.settings().timeout_ns / 1000000));
  log_line("Listening on " + quote(subject) + " in group " + quote(queue));
  int64_t i = 0;
  while (!g_stop) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 200);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) { natsSubscription_Destroy(sub); fail(s); }
    MsgPtr req(m);
    std::string subj = natsMsg_GetSubject(m);
    std::string data = req.data();
    log_line("[#" + std::to_string(i) + "] Received on subject " + quote(subj) + ":");
    auto hdrs = headers_of(m);
    for (auto& [k, v] : hdrs) log_line(k + ": " + v);
    std::cout << "\n" << data << std::endl;

    const char* reply_to = natsMsg_GetReply(m);
    if (reply_to && *reply_to) {
      std::string out;
      if (echo) {
        out = data;
      } else if (!command.empty()) {
        std::string raw = command;
        std::vector<std::string> tokens;
        std::stringstream ts(subj);
        for (std::string t; std::getline(ts, t, '.');) tokens.push_back(t);
        for (size_t k = 0; k < tokens.size(); ++k) {
          std::string ph = "{{" + std::to_string(k) + "}}";
          for (size_t p; (p = raw.find(ph)) != std::string::npos;) raw.replace(p, ph.size(), tokens[k]);
        }
        out = run_command(expand_template(raw, static_cast<int>(i), data), subj, data);
      } else {
        out = expand_template(body_tpl, static_cast<int>(i), data);
      }
      natsMsg* r = make_msg(reply_to, "", out);
      apply_headers(r, inv.all("header"), static_cast<int>(i));
      if (echo) {
        for (auto& [k, v] : hdrs) natsMsgHeader_Add(r, k.c_str(), v.c_str());
        natsMsgHeader_Add(r, "NATS-Reply-Counter", std::to_string(i).c_str());
      }
      s = natsConnection_PublishMsg(c.get(), r);
      natsMsg_Destroy(r);
      if (s != NATS_OK) log_line("Could not publish reply: " + status_text(s));
    }
    ++i;
    if (limit > 0 && i >= limit) break;
  }
  natsConnection_FlushTimeout(c.get(), 1000);
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  return 0;
}

}  // namespace

void register_pubsub_commands(Registry& r) {
  const std::string tpl_help =
      "Body and Header values of the messages may use Go templates to\ncreate unique messages.\n\n"
      "   nats pub test --count 10 \"Message {{Count}} @ {{Time}}\"\n\n"
      "Available template functions are:\n\n"
      "   Count            the message number\n   TimeStamp        RFC3339 format current time\n"
      "   Unix             seconds since 1970 in UTC\n   UnixNano         nano seconds since 1970 in UTC\n"
      "   Time             the current time\n   ID               an unique ID\n"
      "   Random(min, max) random string at least min long, at most max\n";
  r.add({{"publish"}, {"pub"}, "Generic data publish utility",
         {{"subject", "Subject to publish to", true}, {"body", "Message body", false}},
         {{"reply", 0, false, "Sets a custom reply to subject", "", ""},
          {"header", 'H', false, "Adds headers to the message using K:V format", "", ""},
          {"count", 0, false, "Publish multiple messages", "1", ""},
          {"sleep", 0, false, "When publishing multiple messages, sleep between publishes", "", ""},
          {"force-stdin", 0, true, "Force reading from stdin", "", ""},
          {"quiet", 'q', true, "Show just the output received", "", ""}},
         pub, tpl_help});
  r.add({{"request"}, {"req"}, "Generic request-reply request utility",
         {{"subject", "Subject to send the request to", true}, {"body", "Message body", false}},
         {{"raw", 'r', true, "Show just the output received", "", ""},
          {"header", 'H', false, "Adds headers to the message using K:V format", "", ""},
          {"count", 0, false, "Publish multiple messages", "1", ""},
          {"replies", 0, false, "Wait for multiple replies from services. 0 waits until timeout", "1", ""},
          {"reply-timeout", 0, false, "Maximum timeout between incoming replies.", "300ms", ""},
          {"force-stdin", 0, true, "Force reading from stdin", "", ""}},
         request_cmd, tpl_help});
  r.add({{"subscribe"}, {"sub"}, "Generic subscription client",
         {{"subject", "Subject to subscribe to", true}},
         {{"queue", 0, false, "Subscribe to a named queue group", "", ""},
          {"raw", 'r', true, "Show the raw data received", "", ""},
          {"count", 0, false, "Quit after receiving this many messages", "", ""}},
         sub_cmd, ""});
  r.add({{"reply"}, {}, "Generic service reply utility",
         {{"subject", "Subject to subscribe to", true}, {"body", "Reply body", false}},
         {{"echo", 0, true, "Echo back what is received", "", ""},
          {"command", 0, false, "Runs a command and responds with the output if exit code was 0", "", ""},
          {"queue", 'q', false, "Queue group name", "NATS-RPLY-22", ""},
          {"header", 'H', false, "Adds headers to the message using K:V format", "", ""},
          {"count", 0, false, "Quit after receiving this many messages", "", ""}},
         reply_cmd,
         "The \"command\" supports extracting some information from the subject the request came in on:\n"
         "{{1}} is the second subject token. {{.Request}} is the request body. The command also gets\n"
         "NATS_REQUEST_SUBJECT and NATS_REQUEST_BODY in its environment.\n"});
}

}  // namespace nats::cli
