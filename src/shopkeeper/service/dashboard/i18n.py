"""Every label the dashboard shows, in English and Chinese, in one table.

``translator(lang)`` gives the function templates call as ``_("key")``. A key
missing from the table is shown as itself, so a forgotten label is visible
rather than an error; ``tests/service/test_dashboard.py`` checks that every
key has both languages.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("en", "zh")
DEFAULT_LANG = "en"
#: The ``lang`` attribute of the page's ``<html>`` element per language.
HTML_LANG = {"en": "en", "zh": "zh-CN"}

# key: (English, Chinese). Terms follow docs/architecture.md's vocabulary.
TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "app.tagline": ("Operations dashboard", "运营看板"),
    "nav.overview": ("Overview", "概览"),
    "nav.products": ("Products", "商品"),
    "nav.customers": ("Customers", "客户"),
    "nav.recommendations": ("Recommendations", "推荐"),
    "nav.data_quality": ("Data quality", "数据质量"),
    "nav.jobs": ("Jobs & models", "任务与模型"),
    "nav.logout": ("Log out", "退出登录"),
    "nav.signed_in_as": ("Signed in as", "当前用户"),
    "lang.switch": ("Language", "语言"),
    "role.reader": ("reader", "只读"),
    "role.operator": ("operator", "运营"),
    "role.admin": ("admin", "管理员"),
    "common.none": ("—", "—"),
    "common.no_data": ("No data for this period yet.", "该时段暂无数据。"),
    "common.window": ("Window", "时间范围"),
    "common.to": ("to", "至"),
    "common.days": ("days", "天"),
    "common.utc_note": (
        "Days are UTC days; figures exclude cancelled orders.",
        "按 UTC 日期统计；不含已取消订单。",
    ),
    "common.data_through": ("Data through", "数据截至"),
    # login
    "login.title": ("Sign in", "登录"),
    "login.intro": (
        "Sign in with an API key. Create one with 'shopkeeper keys create'.",
        "请使用 API 密钥登录。可通过 'shopkeeper keys create' 创建。",
    ),
    "login.key": ("API key", "API 密钥"),
    "login.submit": ("Sign in", "登录"),
    "login.wrong": (
        "That API key is not valid or was revoked.",
        "API 密钥无效或已被吊销。",
    ),
    "login.logged_out": ("You are signed out.", "您已退出登录。"),
    # overview
    "overview.title": ("Overview", "经营概览"),
    "overview.grain": ("Granularity", "粒度"),
    "overview.grain.day": ("Daily", "按日"),
    "overview.grain.week": ("Weekly", "按周"),
    "overview.start": ("From", "开始日期"),
    "overview.end": ("To", "结束日期"),
    "overview.apply": ("Apply", "应用"),
    "overview.reset": ("Last 90 days", "最近 90 天"),
    "overview.vs_previous": ("vs previous period", "较上一周期"),
    "overview.previous": ("Previous period", "上一周期"),
    "overview.points": ("pts", "个百分点"),
    "overview.bad_window": ("Invalid window", "时间范围无效"),
    "metric.revenue": ("Revenue", "销售额"),
    "metric.orders": ("Orders", "订单数"),
    "metric.aov": ("Average order value", "客单价"),
    "metric.conversion": ("Conversion", "转化率"),
    "metric.repeat_rate": ("Repeat-purchase rate", "复购率"),
    "metric.new_customers": ("New customers", "新客户"),
    "metric.returning_customers": ("Returning customers", "老客户"),
    "metric.customers": ("Customers", "下单客户"),
    "metric.sessions": ("Sessions", "会话数"),
    "metric.guest_orders": ("Guest orders", "游客订单"),
    "metric.hint.conversion": (
        "Sessions with a purchase / sessions",
        "有购买的会话 / 全部会话",
    ),
    "metric.hint.repeat_rate": (
        "Ordering customers who had ordered before",
        "下单客户中此前已购买过的比例",
    ),
    "metric.hint.aov": ("Revenue / orders", "销售额 / 订单数"),
    "metric.no_events": ("no events", "无行为数据"),
    "chart.revenue_orders": ("Revenue and orders", "销售额与订单数"),
    "chart.aov": ("Average order value", "客单价"),
    "chart.rates": ("Conversion and repeat-purchase rate", "转化率与复购率"),
    "chart.new_returning": ("New vs returning customers", "新老客户"),
    "chart.period": ("Period", "周期"),
    "chart.partial": ("partial period", "不完整周期"),
    # d3 time formats for date axes ("" leaves Plotly's own, English, labels).
    "chart.date_ticks": ("", "%-m月%-d日"),
    "chart.date_hover": ("%Y-%m-%d", "%Y年%-m月%-d日"),
    # products
    "products.title": ("Products", "商品表现"),
    "products.window": ("Last 90 days of data", "数据最近 90 天"),
    "products.best_sellers": ("Best sellers", "畅销商品"),
    "products.best_sellers.chart": ("Top 10 by revenue", "销售额前 10"),
    "products.slow_movers": ("Slow movers", "滞销商品"),
    "products.slow_movers.hint": (
        "Active products with the fewest units sold in the last 90 days",
        "最近 90 天销量最少的在售商品",
    ),
    "products.stock": ("Stock", "库存"),
    "products.stock.hint": (
        "Days of cover = units on hand / average daily units of the last 28 days",
        "可售天数 = 现有库存 / 最近 28 天日均销量",
    ),
    "products.stock.chart": ("Shortest cover (days)", "可售天数最短"),
    "products.stock.legend": (
        "Bars: days of cover (red ✕ out of stock, amber shorter than the lead time); "
        "black tick: lead time.",
        "条形：可售天数（红色 ✕ 为缺货，橙色为短于补货周期）；黑色刻度：补货周期。",
    ),
    "products.rank": ("#", "#"),
    "products.product": ("Product", "商品"),
    "products.category": ("Category", "类目"),
    "products.price": ("Price", "价格"),
    "products.units": ("Units", "销量"),
    "products.revenue": ("Revenue", "销售额"),
    "products.share": ("Share of revenue", "销售额占比"),
    "products.last_sold": ("Last sold", "最近售出"),
    "products.never": ("never", "从未售出"),
    "products.on_hand": ("On hand", "现有库存"),
    "products.on_order": ("On order", "在途"),
    "products.lead_time": ("Lead time (days)", "补货周期（天）"),
    "products.daily_units": ("Units / day", "日均销量"),
    "products.days_of_cover": ("Days of cover", "可售天数"),
    "products.no_sales": ("no sales", "无销量"),
    "stock.products": ("Products with stock rows", "有库存记录的商品"),
    "stock.on_hand": ("Units on hand", "现有库存件数"),
    "stock.on_order": ("Units on order", "在途件数"),
    "stock.out_of_stock": ("Out of stock", "缺货商品"),
    "stock.below_lead_time": ("Cover below lead time", "可售天数低于补货周期"),
    "stock.unsold_with_stock": ("Stock without sales (28 days)", "有库存但 28 天无销量"),
    # customers
    "customers.title": ("Customers", "客户留存"),
    "customers.cohorts": ("Retention by acquisition cohort", "按首购月份的同期群留存"),
    "customers.cohorts.hint": (
        "Share of each month's new customers who ordered again N months later",
        "每月新客户在 N 个月后再次下单的比例",
    ),
    "customers.cohort": ("Cohort (first order)", "同期群（首购月）"),
    "customers.cohort_size": ("New customers per cohort", "各同期群新客户数"),
    "customers.month_offset": ("Months since first order", "距首购月数"),
    "customers.month_n": ("Month {n}", "第 {n} 个月"),
    "customers.retention": ("Retention", "留存率"),
    "customers.size": ("Customers", "客户数"),
    "customers.avg_month1": ("Average month-1 retention", "平均次月留存"),
    "customers.avg_month3": ("Average month-3 retention", "平均第 3 月留存"),
    "customers.cohort_count": ("Cohorts", "同期群数"),
    # recommendations
    "rec.title": ("Recommendations", "个性化推荐"),
    "rec.subtitle": (
        "From the recommend model of job",
        "来自推荐模型，训练任务",
    ),
    "rec.no_model": (
        "No recommend model has been trained yet.",
        "尚未训练推荐模型。",
    ),
    "rec.no_model.how": (
        "Train one from the command line, or run the recommend job on the Jobs page "
        "(operator key), or POST /api/v1/jobs with kind recommend:",
        "可在命令行训练，或在“任务与模型”页面运行 recommend 任务（需运营密钥），"
        "或调用 POST /api/v1/jobs 并指定 kind 为 recommend：",
    ),
    "rec.customer": ("Customer ID", "客户编号"),
    "rec.product": ("Product ID", "商品编号"),
    "rec.show": ("Show", "查看"),
    "rec.look_up": ("Look up", "查询"),
    "rec.history": ("History", "历史行为"),
    "rec.history.hint": (
        "Purchases and browse events the model learned from, latest first",
        "模型学习所用的购买与浏览记录，最新在前",
    ),
    "rec.no_history": (
        "No history for this customer: the list below is what is popular now.",
        "该客户暂无历史记录：推荐列表为当前热销商品。",
    ),
    "rec.unknown_customer": (
        "The model does not know this customer; it shows the non-personal list.",
        "模型中没有该客户，显示的是非个性化列表。",
    ),
    "rec.declined": (
        "This customer declined personalisation; the list is not personal.",
        "该客户未同意个性化推荐，列表为非个性化结果。",
    ),
    "rec.for_customer": ("Recommendations", "推荐商品"),
    "rec.personal": ("personal", "个性化"),
    "rec.not_personal": ("not personal", "非个性化"),
    "rec.no_items": ("Nothing to recommend.", "暂无可推荐的商品。"),
    "rec.col.product": ("Product", "商品编号"),
    "rec.col.title": ("Title", "商品名称"),
    "rec.col.category": ("Category", "类目"),
    "rec.col.when": ("When (UTC)", "时间（UTC）"),
    "rec.col.kind": ("Kind", "类型"),
    "rec.col.reason": ("Why", "推荐理由"),
    "rec.col.score": ("Score", "得分"),
    "rec.kind.purchase": ("purchase", "购买"),
    "rec.kind.browse": ("browse", "浏览"),
    "rec.validation": ("Validation", "离线验证"),
    "rec.validation.hint": (
        "NDCG@10 on the held-out latest purchases; the hybrid blends the models "
        "with the weights below.",
        "在留出的最近购买上计算的 NDCG@10；混合模型按下方权重融合各模型。",
    ),
    "rec.validation.chart": ("NDCG@10 per model", "各模型 NDCG@10"),
    "rec.ndcg": ("NDCG@10", "NDCG@10"),
    "rec.model": ("Model", "模型"),
    "rec.best_single": ("best single model", "最佳单模型"),
    "rec.weights": ("Hybrid weights", "混合权重"),
    "rec.weight": ("Weight", "权重"),
    "rec.no_metrics": ("The model holds no validation figures.", "该模型没有验证指标。"),
    "rec.fact.validation": ("Validation period", "验证区间"),
    "rec.fact.validation_customers": ("Customers validated", "参与验证的客户"),
    "rec.fact.customers": ("Customers", "客户数"),
    "rec.fact.products": ("Products", "商品数"),
    "rec.fact.train_s": ("Training seconds", "训练耗时（秒）"),
    "rec.lookup": ("Product lookup", "商品关联查询"),
    "rec.similar": ("Similar items", "相似商品"),
    "rec.together": ("Bought together", "经常一起购买"),
    "rec.unknown_product": (
        "The model does not know this product.",
        "模型中没有该商品。",
    ),
    "rec.reason_note": (
        "Reasons are the model's own words, in English.",
        "推荐理由由模型生成，为英文。",
    ),
    "rec.evaluation": ("Evaluation table", "离线评估表"),
    "rec.evaluation.hint": (
        "validation period, every product ranked; baselines included",
        "验证区间，对全部商品排序；含基线模型",
    ),
    "rec.evaluation.chart": ("Accuracy against catalog coverage", "准确度与商品覆盖率"),
    "rec.metric.ndcg@10": ("NDCG@10", "NDCG@10"),
    "rec.metric.recall@10": ("Recall@10", "召回率@10"),
    "rec.metric.map@10": ("MAP@10", "MAP@10"),
    "rec.metric.hit_rate@10": ("Hit rate@10", "命中率@10"),
    "rec.metric.coverage@10": ("Coverage@10", "覆盖率@10"),
    "rec.metric.novelty@10": ("Novelty@10", "新颖度@10"),
    "rec.metric.gini@10": ("Gini@10", "基尼系数@10"),
    "rec.model.own history": ("Own purchase history", "个人购买历史"),
    "rec.model.repeat": ("Repeat purchases", "复购模型"),
    "rec.model.item_knn": ("Item kNN", "物品近邻"),
    "rec.model.ease": ("EASE", "EASE 线性模型"),
    "rec.model.als": ("ALS", "ALS 矩阵分解"),
    "rec.model.content": ("Content (text)", "内容相似"),
    "rec.model.hybrid": ("Hybrid", "混合模型"),
    "rec.model.popularity": ("Popularity", "热销"),
    "rec.model.trending": ("Trending", "趋势"),
    # data quality
    "dq.title": ("Data quality", "数据质量"),
    "dq.store": ("Store", "数据库"),
    "dq.revenue": ("Revenue in the store", "库内总销售额"),
    "dq.tables": ("Tables", "数据表"),
    "dq.table": ("Table", "表"),
    "dq.rows": ("Rows", "行数"),
    "dq.period": ("Period (UTC)", "时间范围（UTC）"),
    "dq.warnings": ("Warnings", "数据问题"),
    "dq.no_warnings": ("No data quality warnings.", "没有发现数据质量问题。"),
    "dq.count": ("Rows concerned", "涉及行数"),
    "dq.share": ("Share", "占比"),
    "dq.warning.customers_without_orders": ("Customers who never ordered", "从未下单的客户"),
    "dq.warning.products_never_sold": (
        "Products that appear on no order line",
        "从未出现在订单明细中的商品",
    ),
    "dq.warning.orders_without_lines": ("Orders with no order lines", "没有订单明细的订单"),
    "dq.warning.lines_without_price": (
        "Order lines without a unit price (revenue unknown)",
        "缺少单价的订单明细（销售额未知）",
    ),
    "dq.warning.products_without_price": ("Products without a list price", "缺少标价的商品"),
    "dq.warning.products_without_stock_row": (
        "Products with no inventory row (no reorder plan possible)",
        "没有库存记录的商品（无法制定补货计划）",
    ),
    "dq.warning.orders_in_future": ("Orders dated after now", "下单时间晚于当前的订单"),
    "dq.warning.guest_orders": (
        "Orders without a customer (guest checkouts or aggregated sales)",
        "没有客户的订单（游客下单或汇总销售）",
    ),
    "table.products": ("products", "商品 products"),
    "table.customers": ("customers", "客户 customers"),
    "table.locations": ("locations", "门店与仓库 locations"),
    "table.orders": ("orders", "订单 orders"),
    "table.order_lines": ("order lines", "订单明细 order_lines"),
    "table.events": ("events", "行为事件 events"),
    "table.inventory": ("inventory", "库存 inventory"),
    "table.shipment_events": ("shipment events", "物流轨迹 shipment_events"),
    "table.promotions": ("promotions", "促销 promotions"),
    "table.reviews": ("reviews", "评价 reviews"),
    "table.ad_spend": ("ad spend", "广告花费 ad_spend"),
    "table.faq": ("FAQ", "常见问题 faq"),
    # jobs
    "jobs.title": ("Jobs & models", "任务与模型"),
    # Job kinds describe themselves in English when registered; Chinese here.
    "jobkind.figures": (
        "The shop's key figures: revenue, conversion, products, cohorts",
        "店铺关键指标：销售额、转化率、商品与库存、同期群",
    ),
    "jobkind.recommend": (
        "Personal lists, similar items and bought-together from orders and events",
        "基于订单与行为数据的个性化推荐、相似商品与搭配购买",
    ),
    "jobs.kinds": ("Job kinds", "任务类型"),
    "jobs.kind": ("Kind", "类型"),
    "jobs.description": ("Description", "说明"),
    "jobs.last_success": ("Last successful run", "最近成功运行"),
    "jobs.never": ("never run successfully", "尚未成功运行"),
    "jobs.metrics": ("Metrics", "指标"),
    "jobs.run": ("Run now", "立即运行"),
    "jobs.readers_cannot_run": (
        "Starting a job needs an operator or admin key.",
        "启动任务需要运营或管理员密钥。",
    ),
    "jobs.started": ("Job started", "任务已启动"),
    "jobs.recent": ("Recent runs", "最近运行"),
    "jobs.none": ("No job has run yet.", "尚无任务运行记录。"),
    "jobs.job_id": ("Job", "任务编号"),
    "jobs.state": ("State", "状态"),
    "jobs.progress": ("Progress", "进度"),
    "jobs.message": ("Message", "信息"),
    "jobs.created": ("Created (UTC)", "创建时间（UTC）"),
    "jobs.finished": ("Finished (UTC)", "完成时间（UTC）"),
    "jobs.seconds": ("Duration", "耗时"),
    "jobs.error": ("Error", "错误"),
    "jobs.state.queued": ("queued", "排队中"),
    "jobs.state.running": ("running", "运行中"),
    "jobs.state.done": ("done", "已完成"),
    "jobs.state.failed": ("failed", "失败"),
    "jobs.auto_refresh": (
        "This page refreshes while a job is queued or running.",
        "有任务排队或运行时，本页会自动刷新。",
    ),
    "jobs.forbidden": (
        "Your key may not start jobs; an operator or admin key can.",
        "您的密钥无权启动任务，需要运营或管理员密钥。",
    ),
    "jobs.bad_form": (
        "The form has expired; reload the page and try again.",
        "表单已过期，请刷新页面后重试。",
    ),
}


def translator(lang: str) -> Callable[[str], str]:
    """The label lookup for ``lang`` (English for an unknown one)."""
    column = 1 if lang == "zh" else 0

    def translate(key: str) -> str:
        found = TEXTS.get(key)
        return key if found is None else found[column]

    return translate


def pick_lang(value: str | None) -> str | None:
    """``value`` if it names a supported language, else None."""
    if value is None:
        return None
    value = value.strip().lower()
    return value if value in LANGS else None


__all__ = ["DEFAULT_LANG", "HTML_LANG", "LANGS", "TEXTS", "pick_lang", "translator"]
