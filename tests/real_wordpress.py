"""A real WordPress for the tests: Debian's `wordpress` package on its own MariaDB, on loopback.

Nothing here touches the system's WordPress or MariaDB: the database runs from a temporary
data directory on a unix socket (no network), the site is a hard-linked copy of
/usr/share/wordpress with its own wp-config.php (Debian's reads /etc/wordpress/), and PHP's
built-in server serves it on 127.0.0.1. Tests change the site through `php()`, which runs a
PHP snippet with WordPress loaded, the way a plugin or wp-admin would.

Habits that a test may switch at run time (read by wp-config.php on every request):
`environment` ("local": application passwords work over plain http; "production": WordPress
ignores Basic credentials over http and serves every request as anonymous, as a real site
without HTTPS does). Permalinks are WordPress's own option: plain by default after an install
that cannot test pretty ones, so the REST API answers only at `?rest_route=`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORDPRESS = Path("/usr/share/wordpress")
INSTALL_HINT = "apt-get install -y wordpress mariadb-server php-cli php-mysql"
MARIADBD = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
STARTUP = 30.0  # seconds for MariaDB or PHP to answer


def why_no_wordpress() -> str | None:
    """None when a real WordPress can run here, else one line saying how to install it."""
    missing = [
        name
        for name, present in (
            ("wordpress", (WORDPRESS / "wp-settings.php").is_file()),
            ("mariadb-server", _mariadbd() is not None and shutil.which("mariadb-install-db") is not None),
            ("php-cli", shutil.which("php") is not None),
        )
        if not present
    ]
    if not missing and not _php_has_mysqli():
        missing.append("php-mysql")
    if missing:
        return f"{', '.join(missing)} not installed (Debian/Ubuntu: {INSTALL_HINT})"
    return None


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    login: str
    password: str  # an application password, as WordPress shows it


class RealWordPress:
    """One WordPress site with its database, started by `start()` and ended by `stop()`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ecoinbox-wp-"))
        self.site = self.dir / "site"
        self.socket = self.dir / "mysql.sock"
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.version = ""
        self.admin: Account | None = None
        self.writer: Account | None = None  # a subscriber: may not moderate nor see held comments
        self.post = 0
        self.permalinks = ""  # plain
        self._db: subprocess.Popen[bytes] | None = None
        self._web: subprocess.Popen[bytes] | None = None

    # -- life ------------------------------------------------------------------------------------

    def start(self) -> RealWordPress:
        try:
            self._start_database()
            self._make_site()
            self._install()
            self._start_web()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in (self._web, self._db):
            if process is not None and process.poll() is None:
                # Each in a process group of its own: php -S forks its workers, which outlive a
                # signal to the parent alone.
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # workers left behind by the parent
        shutil.rmtree(self.dir, ignore_errors=True)

    def _start_database(self) -> None:
        data = self.dir / "db"
        user = ["--user=root"] if os.geteuid() == 0 else []
        _run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--skip-test-db",
              "--auth-root-authentication-method=normal", *user], timeout=60)  # fmt: skip
        mariadbd = _mariadbd()
        assert mariadbd is not None
        self._db = subprocess.Popen(
            [mariadbd, "--no-defaults", f"--datadir={data}", f"--socket={self.socket}",
             "--skip-networking", "--skip-grant-tables", f"--pid-file={self.dir / 'db.pid'}",
             f"--log-error={self.dir / 'db.log'}", "--innodb-buffer-pool-size=16M", *user],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP
        while not self.socket.exists():
            if self._db.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "db.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"MariaDB did not start:\n{log}")
            time.sleep(0.05)
        client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
        _run([client, "--no-defaults", f"--socket={self.socket}", "-u", "root",
              "-e", "CREATE DATABASE wordpress CHARACTER SET utf8mb4"], timeout=30)  # fmt: skip

    def _make_site(self) -> None:
        """A copy of the package's files (hard links where the filesystem allows) with our own
        wp-config.php: WordPress takes ABSPATH from where wp-load.php lies."""
        try:
            shutil.copytree(WORDPRESS, self.site, copy_function=os.link, symlinks=True)
        except OSError:
            shutil.rmtree(self.site, ignore_errors=True)
            shutil.copytree(WORDPRESS, self.site, symlinks=True)
        (self.site / "wp-config.php").unlink()
        content = self.dir / "wp-content"
        (content / "plugins").mkdir(parents=True)
        (content / "themes").mkdir()
        (content / "uploads").mkdir()
        self.set_habits(environment="local")
        config = f"""<?php
$habits = json_decode(file_get_contents({_php_str(str(self.dir / "habits.json"))}), true);
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:' . {_php_str(str(self.socket))});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_HOME', {_php_str(self.base_url)});
define('WP_SITEURL', {_php_str(self.base_url)});
define('WP_CONTENT_DIR', {_php_str(str(content))});
define('WP_ENVIRONMENT_TYPE', $habits['environment']);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', false);
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
          'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {{
    define($key, 'ecoinbox-tests-' . $key);
}}
$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""
        (self.site / "wp-config.php").write_text(config)
        (self.dir / "router.php").write_text(_ROUTER)

    def _install(self) -> None:
        info = self.php(_INSTALL, installing=True)
        self.version = str(info["version"])
        self.admin = Account(**info["admin"])
        self.writer = Account(**info["writer"])
        self.post = int(info["post"])

    def _start_web(self) -> None:
        log = open(self.dir / "php.log", "wb")  # noqa: SIM115 (closed with the process)
        self._web = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.site), str(self.dir / "router.php")],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.site,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + STARTUP
        while True:
            try:
                with urllib.request.urlopen(self.base_url + "/?rest_route=/", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self._web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("php -S did not serve WordPress:\n" + self.log()[-2000:])
            time.sleep(0.05)

    def log(self) -> str:
        path = self.dir / "php.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- changing the site -----------------------------------------------------------------------

    def set_habits(self, *, environment: str) -> None:
        (self.dir / "habits.json").write_text(json.dumps({"environment": environment}))

    def php(self, code: str, *, installing: bool = False) -> Any:
        """Run `code` (PHP statements; `return` a value) with WordPress loaded; its JSON value."""
        script = self.dir / "run.php"
        script.write_text(
            "<?php\n$_SERVER['HTTP_HOST'] = '127.0.0.1';\n"
            + ("define('WP_INSTALLING', true);\n" if installing else "")
            + f"require {_php_str(str(self.site / 'wp-load.php'))};\n"
            + "$ecoinbox_result = (function () {\n"
            + code
            + "\n})();\n"
            + 'echo "\\n@@ECOINBOX@@" . json_encode($ecoinbox_result);\n'
        )
        done = _run(["php", "-d", "display_errors=stderr", str(script)], timeout=60, cwd=self.site)
        _, marker, result = done.stdout.rpartition("@@ECOINBOX@@")
        if not marker:
            raise RuntimeError(f"PHP printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return json.loads(result)

    def add_comment(
        self,
        author: str,
        text: str,
        *,
        status: str = "approve",
        parent: int = 0,
        post: int | None = None,
        seconds_ago: int = 0,
        email: str | None = None,
    ) -> int:
        """A visitor's comment through wp_new_comment (WordPress's filters, as the comment form
        runs them), then given `status` ("approve", "hold", "spam", "trash")."""
        data = {
            "comment_post_ID": post or self.post,
            "comment_author": author,
            "comment_author_email": email or f"{abs(hash(author)) % 10**8}@example.com",
            "comment_author_url": "",
            "comment_content": text,
            "comment_parent": parent,
            "comment_type": "comment",
            "user_id": 0,
            "comment_author_IP": "192.0.2.1",
            "comment_agent": "tests",
        }
        return int(
            self.php(f"""
            add_filter('wp_is_comment_flood', '__return_false', 99);
            add_filter('duplicate_comment_id', '__return_false', 99);
            $data = json_decode({_php_str(json.dumps(data))}, true);
            $at = time() - {int(seconds_ago)};
            $data['comment_date_gmt'] = gmdate('Y-m-d H:i:s', $at);
            $data['comment_date'] = get_date_from_gmt($data['comment_date_gmt']);
            $id = wp_new_comment(wp_slash($data), true);
            if (is_wp_error($id)) return $id->get_error_message();
            wp_set_comment_status($id, {_php_str(status)});
            return $id;
        """)
        )

    def add_user(self, login: str, role: str, display_name: str = "") -> Account:
        """A user with `role` ("editor", "subscriber", ...) and an application password."""
        info = self.php(f"""
            $id = wp_insert_user(['user_login' => {_php_str(login)}, 'user_pass' => wp_generate_password(24),
                                  'user_email' => {_php_str(login + "@example.com")},
                                  'role' => {_php_str(role)},
                                  'display_name' => {_php_str(display_name or login)}]);
            if (is_wp_error($id)) return $id->get_error_message();
            [$password] = WP_Application_Passwords::create_new_application_password(
                $id, ['name' => 'ecoinbox']);
            return ['id' => $id, 'login' => {_php_str(login)},
                    'password' => WP_Application_Passwords::chunk_password($password)];
        """)
        return Account(**info)

    def add_post(self, title: str) -> int:
        return int(
            self.php(f"""
            return wp_insert_post(['post_title' => {_php_str(title)}, 'post_content' => 'Hello',
                                   'post_status' => 'publish', 'post_author' => 1,
                                   'comment_status' => 'open']);
        """)
        )

    def comments_on(self, post: int) -> list[dict[str, Any]]:
        """Every comment on the post, any status, oldest first (id, parent, status, user, content)."""
        return list(
            self.php(f"""
            $rows = get_comments(['post_id' => {int(post)}, 'status' => 'all', 'orderby' => 'comment_ID',
                                  'order' => 'ASC']);
            $trash = get_comments(['post_id' => {int(post)}, 'status' => 'trash']);
            $spam = get_comments(['post_id' => {int(post)}, 'status' => 'spam']);
            return array_map(fn($c) => ['id' => (int) $c->comment_ID, 'parent' => (int) $c->comment_parent,
                                        'status' => wp_get_comment_status($c), 'user' => (int) $c->user_id,
                                        'content' => $c->comment_content],
                             array_merge($rows, $trash, $spam));
        """)
        )

    def set_status(self, comment_id: int, status: str) -> None:
        self.php(f"return wp_set_comment_status({int(comment_id)}, {_php_str(status)});")

    def comment(self, comment_id: int) -> dict[str, Any]:
        """The comment's row as WordPress stores it."""
        return dict(self.php(f"return get_comment({int(comment_id)}, ARRAY_A);") or {})

    def revoke_passwords(self, login: str) -> None:
        """Delete the user's application passwords (what "Revoke all" in the profile does)."""
        self.php(f"""
            $user = get_user_by('login', {_php_str(login)});
            return WP_Application_Passwords::delete_all_application_passwords($user->ID);
        """)

    def new_password(self, login: str) -> str:
        return str(
            self.php(f"""
            $user = get_user_by('login', {_php_str(login)});
            [$password, $item] = WP_Application_Passwords::create_new_application_password(
                $user->ID, ['name' => 'ecoinbox']);
            return WP_Application_Passwords::chunk_password($password);
        """)
        )

    def set_permalinks(self, structure: str) -> None:
        """ "" for plain permalinks (the REST API only at ?rest_route=), "/%postname%/" for pretty."""
        self.php(f"""
            global $wp_rewrite;
            $wp_rewrite->set_permalink_structure({_php_str(structure)});
            flush_rewrite_rules(false);
            return true;
        """)
        self.permalinks = structure


# ---------------------------------------------------------------------------------------------

_ROUTER = r"""<?php
// php -S: files are served as they are, everything else goes to WordPress (pretty permalinks).
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$file = $_SERVER['DOCUMENT_ROOT'] . $path;
if ($path !== '/' && is_file($file)) {
    return false;
}
if ($path !== '/' && is_dir($file) && is_file($file . '/index.php')) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
"""

_INSTALL = r"""
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
add_filter('pre_wp_mail', '__return_true');
$installed = wp_install('Ecoinbox Test Blog', 'brand_admin', 'admin@example.com', false, '',
                        wp_generate_password(24));
$admin = $installed['user_id'];
wp_update_user(['ID' => $admin, 'display_name' => 'Acme Team']);
$writer = wp_insert_user(['user_login' => 'member', 'user_pass' => wp_generate_password(24),
                          'user_email' => 'member@example.com', 'role' => 'subscriber',
                          'display_name' => 'Member']);
[$admin_password] = WP_Application_Passwords::create_new_application_password($admin, ['name' => 'ecoinbox']);
[$writer_password] = WP_Application_Passwords::create_new_application_password(
    $writer, ['name' => 'ecoinbox']);
$post = wp_insert_post(['post_title' => 'Launch day & what\'s next', 'post_content' => 'Hello',
                        'post_status' => 'publish', 'post_author' => $admin, 'comment_status' => 'open']);
update_option('comment_moderation', 0);
update_option('comment_previously_approved', 0);
update_option('close_comments_for_old_posts', 0);
update_option('thread_comments_depth', 10);
return [
    'version' => get_bloginfo('version'),
    'admin' => ['id' => $admin, 'login' => 'brand_admin',
                'password' => WP_Application_Passwords::chunk_password($admin_password)],
    'writer' => ['id' => $writer, 'login' => 'member',
                 'password' => WP_Application_Passwords::chunk_password($writer_password)],
    'post' => $post,
];
"""


def _php_str(value: str) -> str:
    """A PHP single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run(command: list[str], *, timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{command[0]} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return done


def _mariadbd() -> str | None:
    return next((path for path in MARIADBD if os.access(path, os.X_OK)), None)


def _php_has_mysqli() -> bool:
    try:
        done = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return "mysqli" in done.stdout.split()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
