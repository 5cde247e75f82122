"""Request signing for the platform spiders: WBI (Bilibili), in-page signing (Xiaohongshu, Douyin), the web app's
own signed calls captured (Zhihu search), the middleware.

- wbi: pure WBI signature functions.
- browser_signer: PageSigner, the platforms' own page code signing inside a logged-in chromium page, or making the
  signed call itself while the page's answer is captured.
- middleware: SigningMiddleware, the Scrapy downloader middleware that applies the right one per platform.
"""
