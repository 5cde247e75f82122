"""Request signing for the platform spiders: WBI (Bilibili), in-page signing (Xiaohongshu, Douyin), the middleware.

- wbi: pure WBI signature functions.
- browser_signer: PageSigner, the platforms' own page code signing inside a logged-in chromium page.
- middleware: SigningMiddleware, the Scrapy downloader middleware that applies the right one per platform.
"""
