#include "config/command_line.h"

#include <gtest/gtest.h>

#include "config/duration.h"
#include "test_util.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::config::NATS_TEST_FILE_ID {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

CommandLine parse_ok(std::vector<std::string> args) {
  CommandLine cl;
  std::string err;
  EXPECT_TRUE(parse_command_line(args, cl, err)) << err;
  return cl;
}

std::string parse_err(std::vector<std::string> args) {
  CommandLine cl;
  std::string err;
  EXPECT_FALSE(parse_command_line(args, cl, err));
  return err;
}

TEST(CommandLine, ValueForms) {
  EXPECT_EQ(parse_ok({"-p", "4333"}).flags.port, 4333);
  EXPECT_EQ(parse_ok({"--port", "4334"}).flags.port, 4334);
  EXPECT_EQ(parse_ok({"-p=4335"}).flags.port, 4335);
  EXPECT_EQ(parse_ok({"--port=4336"}).flags.port, 4336);
  EXPECT_EQ(parse_ok({"-p", "0x10"}).flags.port, 16);  // Go's base-0 integers
  CommandLine cl = parse_ok({"-a", "127.0.0.1", "--name", "srv", "-m", "8223"});
  EXPECT_EQ(cl.flags.host, "127.0.0.1");
  EXPECT_EQ(cl.flags.server_name, "srv");
  EXPECT_EQ(cl.flags.http_port, 8223);
  EXPECT_EQ(cl.set_fields, (std::set<std::string>{"host", "server_name", "http_port"}));
  // HTTPS monitoring (the monitor over the client TLS certificate).
  EXPECT_EQ(parse_ok({"-ms", "8443"}).flags.https_port, 8443);
  EXPECT_EQ(parse_ok({"--https_port", "8444"}).flags.https_port, 8444);
  EXPECT_EQ(parse_ok({"--net", "h"}).flags.host, "h");
  EXPECT_EQ(parse_ok({"--addr", "h2"}).flags.host, "h2");
  EXPECT_EQ(parse_ok({"-n", "x"}).flags.server_name, "x");
  EXPECT_EQ(parse_ok({"--server_name", "y"}).flags.server_name, "y");
}

TEST(CommandLine, Booleans) {
  CommandLine cl = parse_ok({"-D", "-V"});
  EXPECT_TRUE(cl.flags.debug);
  EXPECT_TRUE(cl.flags.trace);
  cl = parse_ok({"-D=false", "--trace=true", "-T=false"});
  EXPECT_FALSE(cl.flags.debug);
  EXPECT_TRUE(cl.set_fields.count("debug"));
  EXPECT_TRUE(cl.flags.trace);
  EXPECT_FALSE(cl.flags.logtime);
  cl = parse_ok({"-DV"});
  EXPECT_TRUE(cl.flags.debug && cl.flags.trace && !cl.flags.trace_verbose);
  cl = parse_ok({"-VV"});
  EXPECT_TRUE(cl.flags.trace && cl.flags.trace_verbose && !cl.flags.debug);
  cl = parse_ok({"-DVV"});
  EXPECT_TRUE(cl.flags.debug && cl.flags.trace && cl.flags.trace_verbose);
  cl = parse_ok({"-js", "-sd", "/tmp/js", "-t", "-s"});
  EXPECT_TRUE(cl.flags.jetstream.enabled);
  EXPECT_EQ(cl.flags.jetstream.store_dir, "/tmp/js");
  EXPECT_TRUE(cl.check_config);
  EXPECT_EQ(cl.ignored.count("s"), 1u);  // syslog: accepted, reported, not acted on
  // A bool flag never takes the next argument: "false" is then a stray word.
  EXPECT_EQ(parse_err({"-D", "false"}), "unrecognized command: \"false\"");
}

TEST(CommandLine, VersionHelpAndWords) {
  EXPECT_TRUE(parse_ok({"-v"}).show_version);
  EXPECT_TRUE(parse_ok({"--version"}).show_version);
  EXPECT_TRUE(parse_ok({"-h"}).show_help);
  EXPECT_TRUE(parse_ok({"--help"}).show_help);
  EXPECT_TRUE(parse_ok({"--help_tls"}).show_tls_help);
  EXPECT_TRUE(parse_ok({"version"}).show_version);
  EXPECT_TRUE(parse_ok({"-p", "1", "help"}).show_help);
  EXPECT_TRUE(parse_ok({"--", "version"}).show_version);
}

TEST(CommandLine, GoFlagErrors) {
  EXPECT_EQ(parse_err({"-x"}), "flag provided but not defined: -x");
  EXPECT_EQ(parse_err({"--httpx=1"}), "flag provided but not defined: -httpx");
  EXPECT_EQ(parse_err({"-p"}), "flag needs an argument: -p");
  EXPECT_EQ(parse_err({"-p", "abc"}), "invalid value \"abc\" for flag -p: parse error");
  EXPECT_EQ(parse_err({"-p", "99999999999999999999"}),
            "invalid value \"99999999999999999999\" for flag -p: value out of range");
  EXPECT_EQ(parse_err({"-D=maybe"}), "invalid boolean value \"maybe\" for -D: parse error");
  EXPECT_EQ(parse_err({"---p"}), "bad flag syntax: ---p");
  EXPECT_EQ(parse_err({"foo"}), "unrecognized command: \"foo\"");
}

// Beyond 2.9.10: --http host:port and --no_auth_user (newer releases have them).
TEST(CommandLine, HttpAndNoAuthUser) {
  CommandLine cl = parse_ok({"--http", "127.0.0.1:8333", "--no_auth_user", "bob"});
  Options o = build_options(cl);
  EXPECT_EQ(o.http_host, "127.0.0.1");
  EXPECT_EQ(o.http_port, 8333);
  EXPECT_EQ(o.no_auth_user, "bob");
}

TEST(CommandLine, AuthClusterAndIgnoredFlags) {
  CommandLine cl = parse_ok({"--user", "u", "--pass", "p", "--auth", "tok", "--routes",
                             "nats://a:1, nats://b:2", "--cluster", "nats://0.0.0.0:6333",
                             "--cluster_name", "cn", "--no_advertise", "--connect_retries", "3",
                             "--tls", "--tlscert", "c.pem", "--tlskey", "k.pem", "-P", "/tmp/pid", "-l", "/tmp/log",
                             "--client_advertise", "ca:1", "--ports_file_dir", "/tmp/pf", "--profile", "6060"});
  EXPECT_EQ(cl.flags.username, "u");
  EXPECT_EQ(cl.flags.password, "p");
  EXPECT_EQ(cl.flags.authorization, "tok");
  EXPECT_EQ(cl.flags.cluster.routes, (std::vector<std::string>{"nats://a:1", "nats://b:2"}));
  EXPECT_EQ(cl.flags.cluster.name, "cn");
  EXPECT_TRUE(cl.flags.cluster.no_advertise);
  EXPECT_EQ(cl.flags.cluster.connect_retries, 3);
  EXPECT_TRUE(cl.flags.tls.enabled);
  EXPECT_EQ(cl.flags.tls.cert_file, "c.pem");
  EXPECT_EQ(cl.flags.tls.key_file, "k.pem");
  EXPECT_EQ(cl.flags.pid_file, "/tmp/pid");
  EXPECT_EQ(cl.flags.log_file, "/tmp/log");
  EXPECT_EQ(cl.flags.client_advertise, "ca:1");
  EXPECT_EQ(cl.flags.ports_file_dir, "/tmp/pf");
  EXPECT_EQ(cl.ignored.at("profile"), "6060");

  LoadReport report;
  Options o = build_options(cl, &report);
  EXPECT_EQ(report.ignored, std::vector<std::string>{"<command line>: -profile"});
  EXPECT_TRUE(o.tls.enabled);
  EXPECT_EQ(o.tls.cert_file, "c.pem");
  // --tls without a certificate and key cannot start.
  EXPECT_THROW(build_options(parse_ok({"--tls"})), ConfigError);
  EXPECT_TRUE(o.cluster.configured);
  EXPECT_EQ(o.cluster.port, 6333);
  EXPECT_EQ(o.cluster.host, "0.0.0.0");
  EXPECT_EQ(o.cluster.routes.size(), 2u);

  CommandLine bad = parse_ok({"--cluster", "not a url"});
  EXPECT_THROW(build_options(bad), ConfigError);
}

TEST(CommandLine, PrecedenceDefaultsThenFileThenFlags) {
  TempDir dir;
  std::string conf = dir.write("s.conf", "port: 5000\nserver_name: from_file\ndebug: true\n"
                                         "http_port: 8000\nping_interval: \"30s\"\n");
  CommandLine cl = parse_ok({"-c", conf, "-p", "6000", "-D=false"});
  Options o = build_options(cl);
  EXPECT_EQ(o.config_file, conf);
  EXPECT_EQ(o.port, 6000);                 // flag wins
  EXPECT_FALSE(o.debug);                   // explicit false flag wins too
  EXPECT_EQ(o.server_name, "from_file");   // file value kept when no flag
  EXPECT_EQ(o.http_port, 8000);
  EXPECT_EQ(o.ping_interval, 30s);
  EXPECT_EQ(o.max_payload, kDefaultMaxPayload);  // default when neither
  EXPECT_TRUE(o.logtime);

  Options d = build_options(parse_ok({}));
  EXPECT_EQ(d.port, kDefaultPort);
  EXPECT_TRUE(d.config_file.empty());
}

TEST(CommandLine, ConfigErrorsPropagate) {
  TempDir dir;
  std::string conf = dir.write("bad.conf", "port: 1\nwhat: 2\n");
  CommandLine cl = parse_ok({"-c", conf});
  try {
    build_options(cl);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), conf + ":2:1: unknown field \"what\"");
  }
  // -t turns integer durations into errors.
  std::string conf2 = dir.write("dur.conf", "ping_interval: 5\n");
  LoadReport r;
  EXPECT_EQ(build_options(parse_ok({"-c", conf2}), &r).ping_interval, 5s);
  EXPECT_EQ(r.warnings.size(), 1u);
  EXPECT_THROW(build_options(parse_ok({"-t", "-c", conf2})), ConfigError);
}

TEST(CommandLine, UsageTextMatchesReferenceShape) {
  const std::string& u = usage_text();
  EXPECT_EQ(u.rfind("\nUsage: nats-server [options]\n", 0), 0u);
  EXPECT_NE(u.find("    -p, --port <port>                Use port for clients (default: 4222)"),
            std::string::npos);
  EXPECT_NE(u.find("-js, --jetstream"), std::string::npos);
  EXPECT_EQ(u.substr(u.size() - 2), "\n\n");
}

TEST(GoDuration, ParseAndFormat) {
  EXPECT_EQ(parse_go_duration("2s"), Duration(2s));
  EXPECT_EQ(parse_go_duration("1m30s"), Duration(90s));
  EXPECT_EQ(parse_go_duration("500ms"), Duration(500ms));
  EXPECT_EQ(parse_go_duration("1.5h"), Duration(90min));
  EXPECT_EQ(parse_go_duration("0"), Duration(0));
  EXPECT_EQ(parse_go_duration("-3us"), Duration(-3us));
  EXPECT_EQ(parse_go_duration("10ns"), Duration(10ns));
  std::string err;
  EXPECT_FALSE(parse_go_duration("abc", &err));
  EXPECT_EQ(err, "time: invalid duration \"abc\"");
  EXPECT_FALSE(parse_go_duration("5", &err));
  EXPECT_EQ(err, "time: missing unit in duration \"5\"");
  EXPECT_FALSE(parse_go_duration("5x", &err));
  EXPECT_EQ(err, "time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_FALSE(parse_go_duration("", &err));
  EXPECT_EQ(format_go_duration(5s), "5s");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(2h), "2h0m0s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(250ms), "250ms");
  EXPECT_EQ(format_go_duration(Duration(0)), "0s");
}

}  // namespace
}  // namespace nats::config::NATS_TEST_FILE_ID
