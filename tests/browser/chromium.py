"""chromium: headless Chromium through Debian's chromedriver, for the browser tests.

A fresh profile per run, downloads into a folder of the test's own, the
browser's console kept for the test to read, and screenshots saved under
tests/artefacts/.  The closed network refuses Google's look-ups, so every
background service that would try one is switched off.
"""
import os
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CHROMEDRIVER = '/usr/bin/chromedriver'
FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--disable-extensions', '--window-size=1280,900',
         '--lang=ja-JP']

__all__ = ['Browser', 'By', 'Keys']


class Browser:
    def __init__(self, artefacts, prefix='browser'):
        self.profile = tempfile.mkdtemp(prefix='mdg-chromium-')
        self.downloads = os.path.join(self.profile, 'downloads')
        os.makedirs(self.downloads)
        self.artefacts = artefacts
        self.prefix = prefix
        os.makedirs(artefacts, exist_ok=True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = '/usr/bin/chromium'
        for f in FLAGS + [f'--user-data-dir={self.profile}']:
            opts.add_argument(f)
        opts.add_experimental_option('prefs', {
            'download.default_directory': self.downloads,
            'download.prompt_for_download': False,
            'safebrowsing.enabled': False,
        })
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        # An alert must stay open for the test to see it: the default
        # ("dismiss and notify") would close it at the next command.
        opts.set_capability('unhandledPromptBehavior', 'ignore')
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.execute_cdp_cmd('Browser.setDownloadBehavior',
                                    {'behavior': 'allow', 'downloadPath': self.downloads})
        self.console = []

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    # -- page helpers ------------------------------------------------------
    def get(self, url):
        self.driver.get(url)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        return self.driver.execute_async_script(script, *args)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, pred, timeout=5.0, interval=0.02):
        """Poll pred() (exceptions count as false) until true; its value or None."""
        end = time.monotonic() + timeout
        while True:
            try:
                v = pred()
            except WebDriverException:
                v = None
            if v:
                return v
            if time.monotonic() > end:
                return None
            time.sleep(interval)

    def visible(self, css):
        """The first element css finds if it is displayed, else None.  The pages redraw
        live: an element replaced between the find and the look is looked up again."""
        for _ in range(3):
            els = self.finds(css)
            try:
                return els[0] if els and els[0].is_displayed() else None
            except StaleElementReferenceException:
                continue
        return None

    def alert_text(self):
        """The text of an open alert/confirm/prompt, or None."""
        try:
            return self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return None

    def dismiss_alerts(self, settle=0.3):
        """Close every open dialog; their texts (an empty list when none)."""
        texts = []
        for _ in range(10):
            text = self.alert_text()
            if text is None:
                break
            texts.append(text)
            self.driver.switch_to.alert.dismiss()
            time.sleep(settle)
        return texts

    def screenshot(self, name):
        path = os.path.join(self.artefacts, f'{self.prefix}-{name}.png')
        self.driver.save_screenshot(path)
        return path

    def read_console(self):
        """Console lines since the last call (and keep them all in self.console)."""
        new = [e.get('message', '') for e in self.driver.get_log('browser')]
        self.console.extend(new)
        return new

    def download(self, name, timeout=10.0):
        """Bytes of downloads/<name> once Chromium has finished writing it, or None."""
        path = os.path.join(self.downloads, name)

        def ready():
            if not os.path.exists(path):
                return False
            partial = [n for n in os.listdir(self.downloads) if n.endswith('.crdownload')]
            return not partial
        if not self.wait(ready, timeout, 0.05):
            return None
        with open(path, 'rb') as f:
            return f.read()

    def downloaded_names(self):
        return sorted(os.listdir(self.downloads))
