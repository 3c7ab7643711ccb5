#include "common/message.hpp"
#include "dashboard/request_handler.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <sstream>

namespace fs = std::filesystem;
using namespace aiot::dashboard;

namespace {

void write(const fs::path& path, const std::string& text)
{
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// What a GET sends: the generated body, or the file the server streams.
std::string content(const response& res)
{
    if (res.file.empty()) {
        return res.body;
    }
    std::ifstream in(res.file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

class RequestHandler : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string tmpl = (fs::temp_directory_path() / "aiot-dashboard-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        base_ = tmpl;
        root_ = base_ / "web";
        write(root_ / "index.html",
              "<title>{{title}}</title><script type=\"application/json\" "
              "id=\"aiot-config\">{{config}}</script>");
        write(root_ / "js" / "app.js", "console.log('hi');\n");
        write(root_ / "css" / "style.css", "body{}\n");
        write(root_ / "icons" / "logo.svg", "<svg/>");
        write(root_ / "favicon.svg", "<svg/>");
        write(root_ / "README.md", "# notes");
        write(root_ / "package.json", "{}");
        write(root_ / "js" / "notes.md", "# notes");
        write(root_ / "vendor.list", "# libraries\nnode_modules/chart.js/dist/chart.umd.min.js\n"
                                     "node_modules/big/big.js\n");
        write(root_ / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js", "/*chart*/");
        write(root_ / "node_modules" / "chart.js" / "package.json", "{}");
        write(root_ / "node_modules" / "big" / "big.js", "/*big*/");
        write(base_ / "secret.txt", "top secret");
        write(base_ / "logo.png", "PNGDATA");
        fs::create_symlink(base_ / "secret.txt", root_ / "js" / "leak.js");
        fs::create_symlink(base_, root_ / "js" / "up");
        fs::create_symlink(root_ / "js" / "app.js", root_ / "js" / "alias.js");
        cfg_.static_path = root_;
        cfg_.title = "<script>alert(1)</script>";
        log_stream_ = std::make_shared<std::ostringstream>();
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_stream_);
        log_ = std::make_shared<spdlog::logger>("dashboard-test", sink);
        log_->set_level(spdlog::level::debug);
    }

    void TearDown() override { fs::remove_all(base_); }

    response get(const std::string& target, const std::string& method = "GET",
                 const std::string& if_none_match = "", const std::string& ims = "",
                 const std::string& accept_encoding = "")
    {
        request_handler handler(cfg_, log_);
        return handler.handle({method, target, if_none_match, ims, accept_encoding});
    }

    fs::path base_;
    fs::path root_;
    config cfg_;
    std::shared_ptr<std::ostringstream> log_stream_;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace

TEST_F(RequestHandler, ServesFilesWithTheirTypes)
{
    auto res = get("/js/app.js");
    EXPECT_EQ(res.status, 200u);
    EXPECT_TRUE(res.body.empty()) << "files are streamed, not read";
    EXPECT_EQ(res.file, fs::canonical(root_) / "js" / "app.js");
    EXPECT_EQ(content(res), "console.log('hi');\n");
    EXPECT_EQ(res.content_length, content(res).size());
    EXPECT_EQ(res.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(res.header("Cache-Control"), "no-cache");
    EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(res.header("ETag").empty());
    EXPECT_FALSE(res.header("Last-Modified").empty());
    EXPECT_EQ(get("/css/style.css").header("Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(get("/icons/logo.svg").header("Content-Type"), "image/svg+xml");
    EXPECT_EQ(get("/icons/logo.svg?x=1").status, 200u);
    EXPECT_EQ(get("/favicon.svg").status, 200u);
    res = get("/node_modules/chart.js/dist/chart.umd.min.js");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("Cache-Control"), "public, max-age=86400");
    EXPECT_EQ(res.header("Vary"), "Accept-Encoding");
}

TEST_F(RequestHandler, ServesOnlyThePagesOwnAssets)
{
    for (const char* target :
         {"/README.md", "/package.json", "/js/notes.md", "/vendor.list",
          "/node_modules/chart.js/package.json", "/node_modules/chart.js/dist/other.js",
          "/node_modules/", "/css/style.js"}) {
        const auto res = get(target);
        EXPECT_EQ(res.status, 404u) << target;
        EXPECT_TRUE(res.file.empty()) << target;
    }
    EXPECT_EQ(content(get("/node_modules/big/big.js")), "/*big*/");
}

TEST_F(RequestHandler, PrecompressedLibrariesForGzipClients)
{
    const std::string lib = "/node_modules/big/big.js";
    // No .gz copy yet: the file itself, whatever the client accepts.
    auto res = get(lib, "GET", "", "", "gzip, deflate, br");
    EXPECT_EQ(res.header("Content-Encoding"), "");
    EXPECT_EQ(content(res), "/*big*/");
    write(root_ / "node_modules" / "big" / "big.js.gz", "GZDATA");
    res = get(lib, "GET", "", "", "gzip, deflate, br");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("Content-Encoding"), "gzip");
    EXPECT_EQ(res.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(res.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(content(res), "GZDATA");
    EXPECT_EQ(res.content_length, 6u);
    const std::string gz_etag{res.header("ETag")};
    EXPECT_NE(gz_etag.find("-gz\""), std::string::npos) << gz_etag;
    EXPECT_EQ(get(lib, "GET", gz_etag, "", "gzip").status, 304u);
    // Clients that do not accept gzip get the plain file.
    for (const char* accept : {"", "identity", "gzip;q=0", "br"}) {
        res = get(lib, "GET", "", "", accept);
        EXPECT_EQ(res.header("Content-Encoding"), "") << accept;
        EXPECT_EQ(content(res), "/*big*/") << accept;
        EXPECT_NE(res.header("ETag"), gz_etag);
    }
    // A copy older than its file is stale: not sent.
    fs::last_write_time(root_ / "node_modules" / "big" / "big.js.gz",
                        fs::last_write_time(root_ / "node_modules" / "big" / "big.js") -
                            std::chrono::hours(1));
    EXPECT_EQ(get(lib, "GET", "", "", "gzip").header("Content-Encoding"), "");
    // A .gz the page does not list is not served by name.
    EXPECT_EQ(get(lib + ".gz").status, 404u);
}

TEST_F(RequestHandler, TheIndexIsRenderedOnceAndOnReload)
{
    request_handler handler(cfg_, log_);
    const auto first = handler.handle({"GET", "/", "", "", ""});
    write(root_ / "index.html", "<title>{{title}}</title><p>second</p>");
    auto res = handler.handle({"GET", "/", "", "", ""});
    EXPECT_EQ(res.body, first.body) << "not read again per request";
    EXPECT_TRUE(handler.reload());
    res = handler.handle({"GET", "/", "", "", ""});
    EXPECT_NE(res.body.find("<p>second</p>"), std::string::npos) << res.body;
    EXPECT_NE(res.header("ETag"), first.header("ETag"));
    fs::remove(root_ / "index.html");
    EXPECT_FALSE(handler.reload());
    EXPECT_EQ(handler.handle({"GET", "/", "", "", ""}).status, 404u);
}

TEST_F(RequestHandler, IndexShowsTheTitleAsTextAndCarriesTheConfig)
{
    for (const char* target : {"/", "/index.html"}) {
        const auto res = get(target);
        ASSERT_EQ(res.status, 200u) << target;
        EXPECT_EQ(res.header("Content-Type"), "text/html; charset=utf-8");
        EXPECT_FALSE(res.header("Content-Security-Policy").empty());
        EXPECT_EQ(res.body.find("<script>alert"), std::string::npos) << res.body;
        EXPECT_NE(res.body.find("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"),
                  std::string::npos);
        EXPECT_EQ(res.body.find("{{config}}"), std::string::npos);
    }
    const auto cfg = get("/config.json");
    ASSERT_EQ(cfg.status, 200u);
    EXPECT_EQ(cfg.header("Content-Type"), "application/json");
    const auto j = aiot::common::json::parse(cfg.body);
    EXPECT_EQ(j.at("title"), "<script>alert(1)</script>");
    EXPECT_EQ(j.at("broker_host"), "localhost");
    EXPECT_EQ(j.at("broker_port"), 8000);
}

TEST_F(RequestHandler, HeadSendsTheLengthButNoBody)
{
    const auto get_res = get("/js/app.js");
    const auto res = get("/js/app.js", "HEAD");
    EXPECT_EQ(res.status, 200u);
    EXPECT_TRUE(res.body.empty());
    EXPECT_TRUE(res.file.empty());
    EXPECT_EQ(res.content_length, content(get_res).size());
    EXPECT_EQ(res.header("ETag"), get_res.header("ETag"));
    const auto index = get("/", "HEAD");
    EXPECT_TRUE(index.body.empty());
    EXPECT_EQ(index.content_length, get("/").body.size());
    const auto missing = get("/nope", "HEAD");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_TRUE(missing.body.empty());
}

TEST_F(RequestHandler, ConditionalRequestsGet304)
{
    const auto first = get("/js/app.js");
    const std::string etag{first.header("ETag")};
    auto res = get("/js/app.js", "GET", etag);
    EXPECT_EQ(res.status, 304u);
    EXPECT_TRUE(res.body.empty());
    EXPECT_FALSE(res.has_content_length);
    EXPECT_EQ(res.header("ETag"), etag);
    EXPECT_EQ(get("/js/app.js", "GET", "\"other\", W/" + etag).status, 304u);
    EXPECT_EQ(get("/js/app.js", "GET", "*").status, 304u);
    EXPECT_EQ(get("/js/app.js", "GET", "\"other\"").status, 200u);

    const std::string last_modified{first.header("Last-Modified")};
    EXPECT_EQ(get("/js/app.js", "GET", "", last_modified).status, 304u);
    EXPECT_EQ(get("/js/app.js", "GET", "", "Thu, 01 Jan 1970 00:00:00 GMT").status, 200u);
    EXPECT_EQ(get("/js/app.js", "GET", "", "garbage").status, 200u);
    // If-None-Match wins over If-Modified-Since.
    EXPECT_EQ(get("/js/app.js", "GET", "\"other\"", last_modified).status, 200u);

    const auto index = get("/");
    EXPECT_EQ(get("/", "GET", std::string{index.header("ETag")}).status, 304u);
}

TEST_F(RequestHandler, TheEtagChangesWithTheFile)
{
    const std::string before{get("/js/app.js").header("ETag")};
    write(root_ / "js" / "app.js", "console.log('changed, longer');\n");
    const auto res = get("/js/app.js", "GET", before);
    EXPECT_EQ(res.status, 200u);
    EXPECT_NE(res.header("ETag"), before);
}

TEST_F(RequestHandler, NotFound)
{
    EXPECT_EQ(get("/missing.js").status, 404u);
    EXPECT_EQ(get("/icons").status, 404u);
    EXPECT_EQ(get("/icons/").status, 404u);
    EXPECT_EQ(get("/js/app.js/").status, 404u);
    EXPECT_EQ(get("/_aiot/logo").status, 404u);
    EXPECT_EQ(get("/missing.js").header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(RequestHandler, OtherMethodsGet405)
{
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"}) {
        const auto res = get("/js/app.js", method);
        EXPECT_EQ(res.status, 405u) << method;
        EXPECT_EQ(res.header("Allow"), "GET, HEAD");
    }
}

TEST_F(RequestHandler, NoPathTraversal)
{
    for (const char* target :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/icons/..%2f..%2fsecret.txt",
          "/icons/%2e%2e/%2e%2e/secret.txt", "/..\\secret.txt", "/.hidden"}) {
        const auto res = get(target);
        EXPECT_EQ(res.status, 403u) << target;
        EXPECT_EQ(res.body.find("top secret"), std::string::npos) << target;
    }
    EXPECT_EQ(get("/secret.txt%00.js").status, 400u);
    EXPECT_EQ(get("http://host/js/app.js").status, 400u);
    EXPECT_EQ(get(base_.string() + "/secret.txt").status, 404u); // taken as relative
    EXPECT_NE(log_stream_->str().find("refused GET /%2e%2e/secret.txt: dot segment"),
              std::string::npos)
        << log_stream_->str();
}

TEST_F(RequestHandler, SymlinksMustStayInside)
{
    auto res = get("/js/leak.js");
    EXPECT_EQ(res.status, 403u);
    EXPECT_EQ(res.body.find("top secret"), std::string::npos);
    EXPECT_TRUE(res.file.empty());
    write(base_ / "secret.js", "top secret");
    EXPECT_EQ(get("/js/up/secret.js").status, 403u);
    res = get("/js/alias.js");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(content(res), "console.log('hi');\n");
    EXPECT_NE(log_stream_->str().find("resolves outside the web folder"), std::string::npos);
}

TEST_F(RequestHandler, LocalLogoAndFaviconFiles)
{
    cfg_.logo = (base_ / "logo.png").string();
    cfg_.favicon = "https://example.com/icon.png";
    const auto res = get("/_aiot/logo");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(content(res), "PNGDATA");
    EXPECT_EQ(res.header("Content-Type"), "image/png");
    EXPECT_EQ(get("/_aiot/favicon").status, 404u);
    const auto j = aiot::common::json::parse(get("/config.json").body);
    EXPECT_EQ(j.at("logo"), "/_aiot/logo");
    EXPECT_EQ(j.at("favicon"), "https://example.com/icon.png");
}

TEST_F(RequestHandler, AMissingRootIsAStartError)
{
    cfg_.static_path = base_ / "nowhere";
    EXPECT_THROW(request_handler(cfg_, log_), std::runtime_error);
}

TEST(HttpDate, FormatsAndParses)
{
    using namespace aiot::dashboard::detail;
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), -1);
    EXPECT_EQ(parse_http_date(""), -1);
}

TEST(AcceptEncoding, Gzip)
{
    using aiot::dashboard::detail::accepts_gzip;
    EXPECT_TRUE(accepts_gzip("gzip"));
    EXPECT_TRUE(accepts_gzip("gzip, deflate, br, zstd"));
    EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    EXPECT_TRUE(accepts_gzip("*"));
    EXPECT_FALSE(accepts_gzip(""));
    EXPECT_FALSE(accepts_gzip("identity"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("gzip; q=0.0, br"));
    EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

TEST(Etag, Matching)
{
    using aiot::dashboard::detail::etag_matches;
    EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches(" \"b\" ,  \"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
    EXPECT_TRUE(etag_matches("*", "\"a\""));
    EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
    EXPECT_FALSE(etag_matches("", "\"a\""));
    EXPECT_FALSE(etag_matches(",,", "\"a\""));
}
