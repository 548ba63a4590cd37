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
    "nav.customer_value": ("Customer value", "客户价值"),
    "nav.recommendations": ("Recommendations", "推荐"),
    "nav.baskets": ("Baskets", "购物篮"),
    "nav.images": ("Images", "商品图片"),
    "nav.marketing": ("Marketing mix", "营销组合"),
    "nav.stock": ("Stock & delivery", "库存与配送"),
    "nav.pricing": ("Pricing & placement", "定价与投放"),
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
    "mmm.days_note": (
        "Days are the shop's days in {zone}; sales exclude cancelled orders.",
        "按店铺时区（{zone}）的日期统计；销售额不含已取消订单。",
    ),
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
    "login.too_many": (
        "Too many wrong keys from this address. Wait a minute, then try again.",
        "此地址输入错误密钥的次数过多，请一分钟后再试。",
    ),
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
    # baskets
    "basket.title": ("Baskets", "购物篮分析"),
    "basket.subtitle": ("From the basket analysis of job", "来自购物篮分析，计算任务"),
    "basket.period": ("orders from", "订单区间"),
    "basket.no_analysis": (
        "No basket analysis has been computed yet.",
        "尚未计算购物篮分析。",
    ),
    "basket.no_analysis.how": (
        "Run it from the command line, or run the basket job on the Jobs page "
        "(operator key), or POST /api/v1/jobs with kind basket:",
        "可在命令行运行，或在“任务与模型”页面运行 basket 任务（需运营密钥），"
        "或调用 POST /api/v1/jobs 并指定 kind 为 basket：",
    ),
    "basket.card.orders": ("Orders analysed", "分析订单数"),
    "basket.card.itemsets": ("Frequent itemsets", "频繁项集"),
    "basket.card.rules": ("Association rules", "关联规则"),
    "basket.card.bundles": ("Candidate bundles", "候选组合套餐"),
    "basket.network": ("Products that sell together", "经常一起售出的商品"),
    "basket.network.hint": (
        "the {n} pairs bought together in the most orders",
        "共同出现订单数最多的 {n} 组商品",
    ),
    "basket.network.legend": (
        "Dot size: orders holding the product; colour: its top category; "
        "line width: lift of the pair. Hover for titles and figures.",
        "圆点大小：包含该商品的订单数；颜色：一级类目；连线粗细：该组合的提升度。"
        "悬停可查看商品名称与数据。",
    ),
    "basket.rules": ("Top rules", "最强关联规则"),
    "basket.rules.hint": (
        "{shown} of {total} rules, highest lift first",
        "共 {total} 条规则，按提升度从高到低显示前 {shown} 条",
    ),
    "basket.rules.thresholds": (
        "Rules of itemsets in at least {support} of orders, with confidence at least "
        "{confidence} and lift at least {lift}.",
        "规则来自至少出现在 {support} 订单中的项集，"
        "置信度不低于 {confidence}，提升度不低于 {lift}。",
    ),
    "basket.rules_map": ("Rules map", "规则分布图"),
    "basket.rules_map.hint": (
        "{n} rules: support against confidence, coloured by lift",
        "{n} 条规则：支持度与置信度，颜色表示提升度",
    ),
    "basket.measures.hint": (
        "Support: share of orders holding every product of the rule. Confidence: share of "
        "the orders with the left side that also hold the right side. Lift: how many times "
        "more often than if they were bought independently.",
        "支持度：包含规则中全部商品的订单占比。置信度：含左侧商品的订单中同时含右侧商品的比例。"
        "提升度：实际共同购买频率是相互独立时的多少倍。",
    ),
    "basket.no_rules": (
        "No rule passes the job's thresholds; lower min_support or min_confidence.",
        "没有规则达到任务的阈值；可降低 min_support 或 min_confidence。",
    ),
    "basket.then": ("then", "则"),
    "basket.col.rule": ("Rule (bought → also bought)", "规则（购买 → 同时购买）"),
    "basket.col.orders": ("Orders", "订单数"),
    "basket.support": ("Support", "支持度"),
    "basket.confidence": ("Confidence", "置信度"),
    "basket.lift": ("Lift", "提升度"),
    "basket.orders": ("Orders", "订单数"),
    "basket.orders_together": ("orders together", "共同订单数"),
    "basket.no_category": ("No category", "无类目"),
    "basket.bundles": ("Bundles worth offering", "推荐组合套餐"),
    "basket.bundles.hint": (
        "{shown} of {total}, the most buyers first",
        "共 {total} 个，按购买客户数从多到少显示前 {shown} 个",
    ),
    "basket.bundles.rule": (
        "Each bundle's products sell together more often than chance. The suggested "
        "discount is the largest (at most {cap}) that keeps the margin rate at {floor} "
        "or more.",
        "每个套餐中的商品共同购买的频率高于随机水平。建议折扣为在毛利率不低于 {floor} 的前提下"
        "可给出的最大折扣（不超过 {cap}）。",
    ),
    "basket.no_bundles": (
        "No set of products is bought together by enough customers.",
        "没有足够多的客户共同购买的商品组合。",
    ),
    "basket.no_discount": ("none", "无"),
    "basket.col.bundle": ("Products", "商品组合"),
    "basket.col.buyers": ("Buyers", "购买客户数"),
    "basket.col.buyers_30": ("Buyers per 30 days", "每 30 天购买客户数"),
    "basket.col.price": ("List price", "原价合计"),
    "basket.col.margin_rate": ("Margin rate", "毛利率"),
    "basket.col.discount": ("Suggested discount", "建议折扣"),
    "basket.col.bundle_price": ("Bundle price", "套餐价"),
    "basket.col.margin_kept": ("Margin kept", "折后毛利率"),
    # product images
    "images.title": ("Product images", "商品图片"),
    "images.subtitle": ("From the image model of job", "来自图片模型，训练任务"),
    "images.facts": (
        "held out over {folds} folds · calibration error {ece} · similar products by {search}",
        "{folds} 折留出验证 · 校准误差 {ece} · 相似商品检索：{search}",
    ),
    "images.search.exact": ("exact search", "精确检索"),
    "images.search.approximate": ("approximate search (HNSW)", "近似检索（HNSW）"),
    "images.no_model": (
        "No image model has been trained yet.",
        "尚未训练图片模型。",
    ),
    "images.no_model.how": (
        "Train it from the command line (it needs PyTorch, the vision extra), or run the "
        "images job on the Jobs page (operator key), or POST /api/v1/jobs with kind images:",
        "可在命令行训练（需要 PyTorch，即 vision 扩展），或在“任务与模型”页面运行 images "
        "任务（需运营密钥），或调用 POST /api/v1/jobs 并指定 kind 为 images：",
    ),
    "images.card.products": ("Products with photos", "有图片的商品"),
    "images.card.categories": ("Categories learnt", "已学习的类目"),
    "images.card.accuracy": ("Held-out accuracy", "留出准确率"),
    "images.card.baseline": (
        "{value} by always naming the largest category",
        "始终猜最大类目：{value}",
    ),
    "images.card.mismatches": ("Category mismatches", "类目不符"),
    "images.card.suggestions": ("Category suggestions", "类目建议"),
    "images.product": ("Product view", "商品详情"),
    "images.product.hint": (
        "open any product from the lists below",
        "可从下方列表中打开任一商品",
    ),
    "images.product.missing": (
        "Product {id} has no photo in this image model.",
        "商品 {id} 在此图片模型中没有图片。",
    ),
    "images.product.default": ("Show the default product", "查看默认商品"),
    "images.stated": ("Stated category", "标注类目"),
    "images.predicted": ("Predicted category", "预测类目"),
    "images.confidence": ("Confidence", "置信度"),
    "images.p_stated": ("Probability of the stated category", "标注类目的概率"),
    "images.held_out": (
        "Predicted by a network that never saw this product.",
        "由从未见过该商品的网络预测。",
    ),
    "images.not_held_out": (
        "Predicted by the final network, trained on every labelled photo.",
        "由最终网络预测（在全部已标注图片上训练）。",
    ),
    "images.no_category": ("No category", "无类目"),
    "images.status": ("Check", "核对结果"),
    "images.status.agrees": ("Agrees", "一致"),
    "images.status.disagrees": ("Disagrees", "存疑"),
    "images.status.mismatch": ("Mismatch", "类目不符"),
    "images.status.unlabelled": ("Unlabelled", "未标注"),
    "images.status.unknown_category": ("Category too small to learn", "类目样本过少"),
    "images.similar": ("Looks like", "外观相似的商品"),
    "images.similar.hint": (
        "the {n} most similar photos; open one to see its own",
        "最相似的 {n} 张图片，点击可查看该商品",
    ),
    "images.similarity": ("Similarity", "相似度"),
    "images.no_similar": ("No other product to compare with.", "没有可比较的其他商品。"),
    "images.mismatches": ("Mismatched categories", "类目不符的商品"),
    "images.mismatches.hint": (
        "{shown} of {total}; the least probable stated category first",
        "共 {total} 个，显示 {shown} 个；标注类目概率最低的在前",
    ),
    "images.mismatches.rule": (
        "A mismatch: the picture says with at least {confidence} confidence that the "
        "product is not in its stated category. Probabilities are calibrated and held out.",
        "类目不符：图片以至少 {confidence} 的置信度表明商品不属于其标注类目。"
        "概率均经过校准，且来自留出预测。",
    ),
    "images.no_mismatches": (
        "No product's photo contradicts its category.",
        "没有商品的图片与其类目相矛盾。",
    ),
    "images.suggestions": ("Suggested categories", "类目建议"),
    "images.suggestions.hint": (
        "{shown} of {total} products without a category the network could learn",
        "共 {total} 个没有可学习类目的商品，显示 {shown} 个",
    ),
    "images.no_suggestions": (
        "Every product has a category the network could learn.",
        "所有商品都有网络可学习的类目。",
    ),
    "images.col.product": ("Product", "商品"),
    "images.col.category": ("Category", "类目"),
    "images.col.photos": ("Held-out photos", "留出图片数"),
    "images.confusion": ("Confusion matrix", "混淆矩阵"),
    "images.confusion.hint": (
        "held-out photos; colour: share of the stated category's photos",
        "留出图片；颜色表示占该标注类目图片的比例",
    ),
    "images.confusion.note": (
        "The diagonal is what the network read right; a dark cell off it is a pair of "
        "categories it confuses, or products filed under the wrong one.",
        "对角线为识别正确的部分；对角线外的深色格子表示网络容易混淆的两个类目，"
        "或被归入错误类目的商品。",
    ),
    "images.share": ("Share", "占比"),
    "images.chart.photos": ("Photos", "图片数"),
    "images.per_class": ("Per category", "各类目表现"),
    "images.per_class.hint": (
        "recall: the stated photos it recognised; precision: its predictions that were right",
        "召回率：标注为该类目的图片中被识别出的比例；精确率：预测为该类目的图片中正确的比例",
    ),
    "images.recall": ("Recall", "召回率"),
    "images.precision": ("Precision", "精确率"),
    # marketing mix
    "mmm.title": ("Marketing mix", "营销组合"),
    "mmm.subtitle": ("From the marketing-mix analysis of job", "来自营销组合分析，计算任务"),
    "mmm.period": ("sales and ad spend from", "销售与广告投放区间"),
    # pricing: learning policies, their values, elasticities, recommended prices
    "pricing.title": ("Pricing & placement", "定价与投放"),
    "pricing.subtitle": (
        "Policies that learn prices and placements, what they are worth, how demand answers "
        "to price, and the prices that would earn most.",
        "学习定价与投放的策略、其价值、需求对价格的反应，以及利润最高的价格。",
    ),
    "pricing.policies": ("Running experiments", "进行中的实验"),
    "pricing.policies.hint": (
        "value = average reward per decision with an outcome, 95% interval",
        "价值 = 有结果的决策的平均回报（95% 区间）",
    ),
    "pricing.policy": ("Policy", "策略"),
    "pricing.purpose": ("Decides", "决策对象"),
    "pricing.purpose.price": ("price", "价格"),
    "pricing.purpose.slot": ("slot", "展位"),
    "pricing.kind": ("Kind", "算法"),
    "pricing.status": ("Status", "状态"),
    "pricing.status.running": ("running", "运行中"),
    "pricing.status.stopped": ("stopped", "已停止"),
    "pricing.version": ("Version", "版本"),
    "pricing.decisions": ("Decisions", "决策数"),
    "pricing.outcomes": ("Outcomes", "结果数"),
    "pricing.value": ("Value", "价值"),
    "pricing.interval": ("95% interval", "95% 区间"),
    "pricing.best": ("Best so far", "当前最优"),
    "pricing.no_policies": ("No policy is running yet.", "还没有运行中的策略。"),
    "pricing.start": ("Start one with", "启动方式："),
    "pricing.detail.hint": (
        "per action: the policy's estimate, the reward seen, and its share of decisions now",
        "每个选项：策略的估计、实际回报与当前决策占比",
    ),
    "pricing.actions": ("Actions of the policy", "策略的选项"),
    "pricing.logged": (
        "Logged value {value} per decision (95% interval {low} to {high}, {n} outcomes).",
        "已记录价值：每次决策 {value}（95% 区间 {low} 至 {high}，{n} 个结果）。",
    ),
    "pricing.target.best": ("showing {action} to everyone", "对所有访客展示 {action}"),
    "pricing.target.current": ("the policy as it is now", "当前策略"),
    "pricing.learned": (
        "Estimated off-policy, {target} would earn {value} (95% interval {low} to {high}).",
        "离线策略评估：{target} 预计每次决策 {value}（95% 区间 {low} 至 {high}）。",
    ),
    "pricing.estimate": ("Estimate", "估计"),
    "pricing.seen": ("Reward seen", "实际回报"),
    "pricing.share": ("Share now", "当前占比"),
    "pricing.reward": ("Reward per decision", "每次决策回报"),
    "pricing.price": ("Price", "价格"),
    "pricing.item": ("Item", "商品"),
    "pricing.elasticities": ("Price elasticity by product", "各商品价格弹性"),
    "pricing.elasticities.hint": (
        "% change in units for 1% dearer, with 95% intervals; left of the dotted line, "
        "a lower price earns more revenue",
        "价格上涨 1% 时销量变化的百分比（95% 区间）；虚线左侧降价可增加收入",
    ),
    "pricing.elasticity": ("Elasticity", "弹性"),
    "pricing.pooled": (
        "All products pooled: {e} (95% interval {lo} to {hi}).",
        "全部商品合并估计：{e}（95% 区间 {lo} 至 {hi}）。",
    ),
    "pricing.clustered": (
        "Per {frequency}, with location and period effects; errors clustered by {by}.",
        "按{frequency}估计，含门店与时期固定效应；标准误按{by}聚类。",
    ),
    "pricing.freq.week": ("week", "周"),
    "pricing.freq.day": ("day", "天"),
    "pricing.scope": ("Product or group", "商品或品类"),
    "pricing.promotion": ("Promotion", "促销"),
    "pricing.lift": ("Lift", "提升"),
    "pricing.no_analysis": ("No pricing analysis yet.", "还没有定价分析。"),
    "pricing.by_location": ("Elasticity by store", "各门店价格弹性"),
    "pricing.by_location.hint": (
        "double machine learning: how the elasticity moves with each store attribute, "
        "per standard deviation",
        "双重机器学习：门店属性每变化一个标准差，弹性的变化",
    ),
    "pricing.location": ("Store", "门店"),
    "pricing.term": ("Term", "项"),
    "pricing.coefficient": ("Coefficient", "系数"),
    "pricing.recommendations": ("Recommended prices", "建议价格"),
    "pricing.recommendations.hint": (
        "the profit-maximising price within the guardrails; hover a row for why",
        "护栏内利润最高的价格；悬停查看原因",
    ),
    "pricing.rec_totals": (
        "{recommended} of {products} products have a recommendation; {raise} would go up.",
        "{products} 个商品中 {recommended} 个有建议价格，其中 {raise} 个建议涨价。",
    ),
    "pricing.rec_profit": (
        "Expected profit change: {change}.",
        "预计利润变化：{change}。",
    ),
    "pricing.now": ("Now", "当前"),
    "pricing.recommended": ("Recommended", "建议"),
    "pricing.first_step": ("First step", "第一步"),
    "pricing.bound": ("Guardrail", "护栏"),
    "pricing.bound.ceiling": ("ceiling", "上限"),
    "pricing.bound.floor": ("floor", "下限"),
    "pricing.bound.margin floor": ("margin floor", "毛利下限"),
    "pricing.units": ("Units", "销量"),
    "pricing.revenue": ("Revenue", "收入"),
    "pricing.profit": ("Profit", "利润"),
    # stock: forecasts, reorder plan, stock-out risk, carriers
    "stock.title": ("Stock & delivery", "库存与配送"),
    "stock.subtitle": (
        "Demand forecasts, what to reorder, what may run out, and how carriers deliver.",
        "需求预测、补货计划、缺货风险与承运商表现。",
    ),
    "stock.forecast": ("Forecast against actuals", "预测与实际"),
    "stock.forecast.hint": (
        "units sold, the backtest forecasts over them, and the forecast ahead, with 80% bands",
        "实际销量、回测预测与未来预测（80% 区间）",
    ),
    "stock.product": ("Product", "商品"),
    "stock.show": ("Show", "查看"),
    "stock.model": ("Model", "模型"),
    "stock.model_note": (
        "Forecasts from {model}, the lowest WAPE in the backtest; {horizon} {unit} after {last}.",
        "预测来自回测 WAPE 最低的 {model}；{last} 之后 {horizon} 个{unit}。",
    ),
    "stock.unit.day": ("days", "天"),
    "stock.unit.week": ("weeks", "周"),
    "stock.backtest_table": ("Backtest", "回测"),
    "stock.coverage80": ("80% coverage", "80% 覆盖率"),
    "stock.seconds": ("Seconds", "秒"),
    "stock.sold": ("sold", "实际销量"),
    "stock.backtest": ("backtest", "回测"),
    "stock.ahead": ("forecast", "预测"),
    "stock.units": ("Units", "件数"),
    "stock.online": ("online", "线上"),
    "stock.no_forecast": ("No forecast yet.", "还没有需求预测。"),
    "stock.plan": ("Reorder plan", "补货计划"),
    "stock.plan.hint": ("click a column to sort", "点击列名排序"),
    "stock.sort.urgency": ("Urgency", "紧急程度"),
    "stock.per_day": ("Demand / day", "日需求"),
    "stock.lead": ("Lead time", "交货期"),
    "stock.safety": ("Safety stock", "安全库存"),
    "stock.reorder_point": ("Reorder point", "再订货点"),
    "stock.order": ("Order", "订购"),
    "stock.order_now": ("order now", "立即订购"),
    "stock.runout": ("Runs out", "缺货日期"),
    "stock.cover": ("Days of cover", "可售天数"),
    "stock.risk": ("Stock-out risk", "缺货风险"),
    "stock.value": ("Stock value", "库存金额"),
    "stock.order_value": ("Order value", "订购金额"),
    "stock.totals": (
        "{items} items; {due} orders due now worth {value}; stock worth {stock}.",
        "共 {items} 项；{due} 项需立即订购，金额 {value}；库存金额 {stock}。",
    ),
    "stock.no_plan": ("No reorder plan yet.", "还没有补货计划。"),
    "stock.risk_table": ("Most likely to run out", "最可能缺货"),
    "stock.carriers": ("Carrier scorecard", "承运商评分"),
    "stock.carrier": ("Carrier", "承运商"),
    "stock.orders": ("Orders", "订单"),
    "stock.on_time": ("On time", "准时率"),
    "stock.mean_delay": ("Mean delay (days)", "平均延误（天）"),
    "stock.p90_delay": ("90th pct delay", "90 分位延误"),
    "stock.lost": ("Lost", "丢失"),
    "stock.trend": ("Last 4 weeks vs 12 before", "近 4 周对比前 12 周"),
    "stock.worsening": ("worsening", "变差"),
    "stock.no_carriers": ("No delivery analysis yet.", "还没有配送分析。"),
    "stock.run": ("Run it with", "运行"),
    "mmm.no_analysis": (
        "No marketing-mix analysis has been computed yet.",
        "尚未计算营销组合分析。",
    ),
    "mmm.no_analysis.how": (
        "Run it from the command line, or run the mmm job on the Jobs page "
        "(operator key), or POST /api/v1/jobs with kind mmm:",
        "可在命令行运行，或在“任务与模型”页面运行 mmm 任务（需运营密钥），"
        "或调用 POST /api/v1/jobs 并指定 kind 为 mmm：",
    ),
    "mmm.unit.day": ("days", "天"),
    "mmm.unit.week": ("weeks", "周"),
    "mmm.one.day": ("day", "天"),
    "mmm.one.week": ("week", "周"),
    "mmm.axis.spend": ("Spend per {unit}", "每{unit}投放金额"),
    "mmm.axis.sales": ("Sales per {unit}", "每{unit}销售额"),
    "mmm.card.spend": ("Ad spend in the window", "期间广告投放"),
    "mmm.card.ad_sales": ("Sales from advertising", "广告带来的销售额"),
    "mmm.card.ad_share": ("Share of sales from ads", "广告销售额占比"),
    "mmm.card.roas": ("Return on ad spend (all channels)", "整体广告支出回报率"),
    "mmm.card.wape": ("Holdout forecast error (WAPE)", "留出期预测误差（WAPE）"),
    "mmm.sales": ("Sales", "销售额"),
    "mmm.spend": ("Spend", "投放金额"),
    "mmm.total_spend": ("Total ad spend", "广告总投放"),
    "mmm.actual": ("Actual sales", "实际销售额"),
    "mmm.forecast": ("Forecast", "预测销售额"),
    "mmm.base": ("Organic base", "自然销售（基线）"),
    "mmm.current": ("current", "当前"),
    "mmm.current_spend": ("Current spend", "当前投放"),
    "mmm.interval": ("90% interval", "90% 区间"),
    "mmm.roas": ("ROAS", "广告支出回报率（ROAS）"),
    "mmm.marginal_roas": ("Marginal ROAS", "边际回报率"),
    "mmm.sales_per_spend": ("Sales per unit of spend", "每单位投放带来的销售额"),
    "mmm.break_even": ("break-even: 1 sale per 1 spent", "盈亏线：每投入 1 带来 1 的销售额"),
    "mmm.simple": ("The simple line", "简单直线模型"),
    "mmm.simple.hint": (
        "sales against total ad spend, one dot per period",
        "销售额与广告总投放的关系，每个点代表一个时段",
    ),
    "mmm.simple.periods": ("Periods", "时段"),
    "mmm.simple.line": ("Fitted line", "拟合直线"),
    "mmm.simple.note": (
        "Sales ≈ {intercept} + {slope} × total ad spend ({r2} R², {n} {unit}): each extra "
        "unit of spend goes with {slope} more sales on the same day or week.",
        "销售额 ≈ {intercept} + {slope} × 广告总投放（R² 为 {r2}，共 {n} {unit}）："
        "同期每多投入 1 个单位，销售额约多 {slope}。",
    ),
    "mmm.simple.caveat": (
        "This is what most people draw first. It ignores carry-over, saturation, seasons "
        "and the differences between channels; the mix below accounts for them.",
        "这是大多数人首先会画的图。它忽略了广告的滞后效应、饱和效应、季节性以及渠道之间的差异；"
        "下方的营销组合模型考虑了这些因素。",
    ),
    "mmm.holdout": ("Holdout check", "留出期检验"),
    "mmm.holdout.hint": ("{start} to {end}", "{start} 至 {end}"),
    "mmm.holdout.periods": ("Periods held out", "留出时段数"),
    "mmm.holdout.note": (
        "The mix was fitted again without these periods and forecast their sales from "
        "their actual ad spend. WAPE: the forecast's absolute errors over actual sales; "
        "bias: forecast minus actual, over actual.",
        "模型在不含这些时段的数据上重新拟合，再根据这些时段的实际广告投放预测其销售额。"
        "WAPE：预测绝对误差之和除以实际销售额；偏差：预测减实际，再除以实际。",
    ),
    "mmm.no_holdout": (
        "The job made no holdout check (see the notes above).",
        "该任务没有进行留出期检验（原因见上方说明）。",
    ),
    "mmm.wape": ("WAPE", "加权绝对百分比误差（WAPE）"),
    "mmm.mape": ("MAPE", "平均绝对百分比误差（MAPE）"),
    "mmm.bias": ("Bias", "偏差"),
    "mmm.contributions": ("Where sales came from", "销售额来源"),
    "mmm.contributions.hint": (
        "per period: the organic base and each channel, stacked",
        "每个时段：自然销售基线与各渠道贡献，堆叠显示",
    ),
    "mmm.contributions.note": (
        "The areas add up to the mix's fitted sales; the line is what actually sold. "
        "The base holds trend, season, weekdays, holidays, promotions and prices.",
        "各区域之和为模型拟合的销售额，折线为实际销售额。"
        "基线包含趋势、季节、星期、节假日、促销和价格的影响。",
    ),
    "mmm.channels": ("Return on ad spend per channel", "各渠道广告支出回报率"),
    "mmm.channels.hint": (
        "with 90% intervals; marginal: the next unit at the current spend",
        "含 90% 区间；边际回报率：在当前投放水平上再多投入一个单位的回报",
    ),
    "mmm.roas.note": (
        "ROAS: the channel's sales over its spend in the window. Marginal ROAS: the "
        "sales the next unit of spend would bring at the current spend; below 1 the next "
        "unit sells less than it costs.",
        "ROAS：期间内该渠道带来的销售额除以其投放金额。边际回报率：在当前投放水平上再多投入"
        "一个单位所带来的销售额；低于 1 表示多投入的部分带来的销售额低于其成本。",
    ),
    "mmm.col.channel": ("Channel", "渠道"),
    "mmm.col.spend": ("Spend", "投放金额"),
    "mmm.col.sales": ("Sales from it", "带来的销售额"),
    "mmm.col.share": ("Share of sales", "销售额占比"),
    "mmm.col.current_spend": ("Current spend per {unit}", "当前投放（每{unit}）"),
    "mmm.curves": ("Response curves", "响应曲线"),
    "mmm.curves.hint": (
        "sales per period against a steady spend per period",
        "持续稳定投放下，每个时段的投放金额与销售额",
    ),
    "mmm.curves.note": (
        "Each curve flattens as the channel saturates; the diamond marks its current "
        "spend (the last four weeks' mean). Where a curve is still steep, more spend "
        "still pays.",
        "曲线变平表示该渠道趋于饱和；菱形标记当前投放水平（最近四周的平均值）。"
        "曲线仍然陡峭之处，追加投放仍有回报。",
    ),
    "mmm.budget": ("Budget optimiser", "预算优化"),
    "mmm.budget.hint": (
        "the split of a budget over the next {n} {unit} that sells (or earns) the most",
        "在未来 {n} {unit}内，使销售额（或利润）最大的预算分配",
    ),
    "mmm.budget.total": ("Total budget over {n} {unit}", "{n} {unit}总预算"),
    "mmm.budget.objective": ("Objective", "优化目标"),
    "mmm.objective.sales": ("Most sales", "销售额最大"),
    "mmm.objective.profit": ("Most profit (needs a margin)", "利润最大（需填写毛利率）"),
    "mmm.budget.margin": ("Margin (0–1, for profit)", "毛利率（0–1，用于利润目标）"),
    "mmm.budget.optimise": ("Optimise", "计算最优分配"),
    "mmm.budget.reset": ("Reset", "重置"),
    "mmm.budget.bounds": (
        "Optional limits per channel over the same period: leave empty for none.",
        "可选：各渠道在同一期间内的投放上下限，留空表示不限制。",
    ),
    "mmm.budget.min": ("At least", "最少"),
    "mmm.budget.max": ("At most", "最多"),
    "mmm.budget.current": ("Current split", "当前分配"),
    "mmm.budget.recommended": ("Recommended", "建议分配"),
    "mmm.budget.change": ("Change", "变化"),
    "mmm.budget.current_sales": ("Sales at the current split", "当前分配下的销售额"),
    "mmm.budget.expected_sales": ("Expected sales", "预计销售额"),
    "mmm.budget.sum": ("Total", "合计"),
    "mmm.budget.card.total": ("Budget over {n} {unit}", "{n} {unit}预算"),
    "mmm.budget.card.expected": ("Expected sales from ads", "预计广告销售额"),
    "mmm.budget.card.current": ("At the current split", "当前分配下"),
    "mmm.budget.card.gain": ("Expected gain", "预计增量"),
    "mmm.budget.card.profit_gain": ("Profit gain after ad spend", "扣除投放后的利润增量"),
    "mmm.budget.invalid": ("The budget cannot be split:", "无法计算该预算分配："),
    "mmm.budget.note": (
        "The current split is the last four weeks' mix scaled to the same budget. Sales "
        "are those the channels bring once their carry-over has built up, from the fitted "
        "curves; the organic base is left out of both.",
        "当前分配为最近四周的渠道结构按同一预算等比缩放。销售额由拟合的响应曲线计算，"
        "为滞后效应稳定后各渠道带来的销售额；两者均不含自然销售基线。",
    ),
    # customer value
    "cvalue.title": ("Customer value", "客户价值"),
    "cvalue.subtitle": ("From the customer analytics of job", "来自客户分析，计算任务"),
    "cvalue.as_of": ("scored as of", "评分日期"),
    "cvalue.no_analytics": (
        "No customer analytics have been computed yet.",
        "尚未计算客户分析。",
    ),
    "cvalue.no_analytics.how": (
        "Run them from the command line, or run the customers job on the Jobs page "
        "(operator key), or POST /api/v1/jobs with kind customers:",
        "可在命令行运行，或在“任务与模型”页面运行 customers 任务（需运营密钥），"
        "或调用 POST /api/v1/jobs 并指定 kind 为 customers：",
    ),
    "cvalue.card.customers": ("Customers scored", "已评分客户"),
    "cvalue.card.buyers": ("Customers who ordered", "有购买的客户"),
    "cvalue.card.clv_total": ("Expected lifetime value", "预期客户终身价值"),
    "cvalue.card.expected_revenue": ("Expected revenue (horizon)", "预期收入（预测期）"),
    "cvalue.card.at_risk": ("Valuable customers at risk", "流失风险高价值客户"),
    "cvalue.card.value_at_risk": ("Value at risk", "风险价值"),
    "cvalue.card.auc": ("Propensity ROC AUC", "购买倾向 ROC AUC"),
    "cvalue.segments": ("Segment sizes", "客户分群规模"),
    "cvalue.segments.hint": (
        "RFM segments of the customers who ordered",
        "有购买客户的 RFM 分群",
    ),
    "cvalue.movement": ("Segments and movement", "分群与迁移"),
    "cvalue.segment": ("Segment", "分群"),
    "cvalue.meaning": ("What it means", "含义"),
    "cvalue.share": ("Share of buyers", "占购买客户比例"),
    "cvalue.customers": ("Customers", "客户数"),
    "cvalue.buyers": ("Buyers", "购买客户"),
    "cvalue.revenue_share": ("Share of revenue", "销售额占比"),
    "cvalue.mean_recency": ("Days since last order (mean)", "距上次购买天数（均值）"),
    "cvalue.move.before": ("Before", "期初"),
    "cvalue.move.stayed": ("Stayed", "留在本群"),
    "cvalue.move.moved_up": ("Moved up", "上移"),
    "cvalue.move.moved_down": ("Moved down", "下移"),
    "cvalue.move.new": ("Joined", "新进入"),
    "cvalue.segment.champions": ("Champions", "冠军客户"),
    "cvalue.segment.loyal": ("Loyal", "忠诚客户"),
    "cvalue.segment.potential loyalist": ("Potential loyalists", "潜在忠诚客户"),
    "cvalue.segment.cannot lose": ("Cannot lose", "不能流失"),
    "cvalue.segment.new": ("New", "新客户"),
    "cvalue.segment.need attention": ("Need attention", "需要关注"),
    "cvalue.segment.promising": ("Promising", "有潜力"),
    "cvalue.segment.at risk": ("At risk", "有流失风险"),
    "cvalue.segment.about to sleep": ("About to sleep", "即将沉睡"),
    "cvalue.segment.hibernating": ("Hibernating", "沉睡客户"),
    "cvalue.segment.lost": ("Lost", "已流失"),
    "cvalue.segment.no orders": ("No orders", "未购买"),
    "cvalue.segment_hint.champions": (
        "bought very recently, buy often and spend most",
        "最近刚购买，购买频繁且消费最高",
    ),
    "cvalue.segment_hint.loyal": (
        "buy often and spend well, bought fairly recently",
        "购买频繁、消费较高，近期有购买",
    ),
    "cvalue.segment_hint.potential loyalist": (
        "recent, middling orders and spend so far",
        "近期有购买，订单数与消费中等",
    ),
    "cvalue.segment_hint.cannot lose": (
        "were among the most valuable, gone quiet",
        "曾是最有价值的客户，现已沉寂",
    ),
    "cvalue.segment_hint.new": ("bought very recently, little so far", "最近刚购买，累计购买少"),
    "cvalue.segment_hint.need attention": (
        "middling value, last order a while ago",
        "价值中等，上次购买已有一段时间",
    ),
    "cvalue.segment_hint.promising": ("bought recently, little so far", "近期有购买，累计购买少"),
    "cvalue.segment_hint.at risk": (
        "good value once, not seen for a long time",
        "曾有较高价值，很久没有购买",
    ),
    "cvalue.segment_hint.about to sleep": (
        "little bought, last order a while ago",
        "购买少，上次购买已有一段时间",
    ),
    "cvalue.segment_hint.hibernating": ("little bought, long ago", "购买少且很久以前"),
    "cvalue.segment_hint.lost": ("little bought, the longest ago", "购买少且距今最久"),
    "cvalue.clv_distribution": ("Lifetime value of buyers", "购买客户的终身价值分布"),
    "cvalue.clv_distribution.hint": (
        "expected value over the next {months} months, discounted",
        "未来 {months} 个月的预期价值（已折现）",
    ),
    "cvalue.clv_tail": (
        "The last (amber) band also holds the top 1% of buyers.",
        "最后一档（橙色）包含价值最高的 1% 客户。",
    ),
    "cvalue.clv": ("Lifetime value", "终身价值"),
    "cvalue.model.bgnbd": ("BG/NBD × Gamma-Gamma", "BG/NBD × Gamma-Gamma 模型"),
    "cvalue.model.paretonbd": ("Pareto/NBD × Gamma-Gamma", "Pareto/NBD × Gamma-Gamma 模型"),
    "cvalue.holdout": ("Holdout check of repeat purchases", "复购预测留出检验"),
    "cvalue.holdout.hint": (
        "Fitted on the orders up to the first date, predicting the orders up to the second:",
        "用第一个日期之前的订单拟合，预测到第二个日期为止的订单：",
    ),
    "cvalue.holdout.actual": ("Actual orders", "实际订单数"),
    "cvalue.holdout.predicted": ("Predicted orders", "预测订单数"),
    "cvalue.holdout.relative_error": ("Relative error", "相对误差"),
    "cvalue.holdout.mae": ("Mean absolute error per customer", "每位客户平均绝对误差"),
    "cvalue.holdout.frequency": ("Repeat orders before", "此前复购次数"),
    "cvalue.holdout.actual_mean": ("Actual (mean)", "实际（均值）"),
    "cvalue.holdout.predicted_mean": ("Predicted (mean)", "预测（均值）"),
    "cvalue.deciles": ("Purchase propensity by decile", "购买倾向十分位"),
    "cvalue.deciles.hint": (
        "ordered within {days} days of the test date {date}; decile 1 scores highest",
        "测试日 {date} 之后 {days} 天内是否下单；第 1 组得分最高",
    ),
    "cvalue.decile": ("Decile", "十分位组"),
    "cvalue.observed_rate": ("Observed purchase rate", "实际购买率"),
    "cvalue.mean_score": ("Mean score", "平均得分"),
    "cvalue.predicted": ("Predicted probability", "预测概率"),
    "cvalue.perfect": ("Perfect calibration", "完美校准"),
    "cvalue.calibration": ("Calibration", "概率校准"),
    "cvalue.sessions": ("Browsing sessions", "浏览会话"),
    "cvalue.sessions.hint": (
        "P(a session ends in a purchase), {sessions} sessions, tested from {date}",
        "会话以购买结束的概率，共 {sessions} 个会话，自 {date} 起测试",
    ),
    "cvalue.calibration.hint": (
        "observed rate against predicted probability, per model kind",
        "各模型的实际购买率与预测概率对比",
    ),
    "cvalue.kind": ("Model", "模型"),
    "cvalue.kind.logistic": ("Logistic regression", "逻辑回归"),
    "cvalue.kind.boosting": ("Gradient boosting", "梯度提升"),
    "cvalue.kind.blend": ("Blend", "融合模型"),
    "cvalue.in_use": ("in use", "使用中"),
    "cvalue.metric.roc_auc": ("ROC AUC", "ROC AUC"),
    "cvalue.metric.pr_auc": ("PR AUC", "PR AUC"),
    "cvalue.metric.brier": ("Brier score", "Brier 分数"),
    "cvalue.metric.log_loss": ("Log loss", "对数损失"),
    "cvalue.metric.ece": ("Calibration error", "校准误差"),
    "cvalue.drivers": ("What drives the score", "影响得分的主要因素"),
    "cvalue.feature": ("Feature", "特征"),
    "cvalue.importance": ("Importance", "重要性"),
    "cvalue.rules": ("Who is high value: readable rules", "高价值客户的可读规则"),
    "cvalue.rules.hint": (
        "a small decision tree over the top {share}% of buyers by lifetime value",
        "基于终身价值前 {share}% 购买客户的小型决策树",
    ),
    "cvalue.no_rules": ("No rules could be learned from this shop.", "无法从该店铺数据学习规则。"),
    "cvalue.cv.model": ("Model", "模型"),
    "cvalue.cv.tree": ("Readable tree (these rules)", "可读决策树（上述规则）"),
    "cvalue.cv.boosting": ("Gradient boosting (black box)", "梯度提升（黑盒）"),
    "cvalue.cv.accuracy": ("Accuracy", "准确率"),
    "cvalue.cv.balanced_accuracy": ("Balanced accuracy", "平衡准确率"),
    "cvalue.cv.hint": (
        "Cross-validated on the same {folds} folds.",
        "在相同的 {folds} 折上交叉验证。",
    ),
    "cvalue.cv.base_rate": ("High-value share", "高价值客户占比"),
    "cvalue.english_note": (
        "Rules, notes and flags are the models' own words, in English.",
        "规则、说明与提示由模型生成，为英文。",
    ),
    "cvalue.churn": ("Churn risk", "流失风险"),
    "cvalue.churn.hint": (
        "top {share}% by spend, {low}–{high}% likely to have left; most value at risk first",
        "消费前 {share}% 且流失概率在 {low}–{high}% 之间的客户，按风险价值排序",
    ),
    "cvalue.churn.total": (
        "{n} customers at risk in all; the top 20:",
        "共 {n} 位客户有流失风险；前 20 位：",
    ),
    "cvalue.no_churn": ("No valuable customer is at risk.", "没有高价值客户面临流失风险。"),
    "cvalue.customer": ("Customer", "客户编号"),
    "cvalue.orders": ("Orders", "订单数"),
    "cvalue.spend": ("Spend", "累计消费"),
    "cvalue.recency_days": ("Days since last order", "距上次购买天数"),
    "cvalue.churn_risk": ("Churn risk", "流失概率"),
    "cvalue.value_at_risk": ("Value at risk", "风险价值"),
    "cvalue.propensity": ("Propensity", "购买倾向"),
    "cvalue.expected_revenue": ("Expected revenue", "预期收入"),
    "cvalue.consent": ("Marketing consent (now)", "营销许可（当前）"),
    "cvalue.yes": ("yes", "是"),
    "cvalue.no": ("no", "否"),
    "cvalue.fairness": ("Fairness of the propensity score", "购买倾向评分的公平性"),
    "cvalue.fairness.hint": (
        "on the test date {date}, selecting the top fifth by score",
        "测试日 {date}，选取得分前 20% 的客户",
    ),
    "cvalue.fairness.rule": (
        "A gap above {points} points is flagged; groups under {min} customers are left out "
        "of the gaps.",
        "差距超过 {points} 个百分点时提示；少于 {min} 位客户的分组不计入差距。",
    ),
    "cvalue.no_flags": ("No gap above the threshold.", "没有超过阈值的差距。"),
    "cvalue.group": ("Group", "分组"),
    "cvalue.group.gender": ("Gender", "性别"),
    "cvalue.group.age_band": ("Age band", "年龄段"),
    "cvalue.selection_rate": ("Selected", "入选比例"),
    "cvalue.tpr": ("Buyers selected", "购买者入选比例"),
    "cvalue.too_small": ("too few", "样本过少"),
    "cvalue.dp_gap": ("Selection gap", "入选比例差距"),
    "cvalue.eo_gap": ("Equal-opportunity gap", "机会均等差距"),
    "cvalue.score_spread": ("Score spread", "得分差距"),
    "cvalue.audience": ("Audience builder", "人群圈选"),
    "cvalue.audience.hint": (
        "only customers who consent to marketing, as the store says now",
        "仅包含当前同意营销联系的客户",
    ),
    "cvalue.conditions": (
        "Conditions, one per line (all must hold)",
        "圈选条件，每行一个（须全部满足）",
    ),
    "cvalue.conditions.hint": (
        "FIELD OP VALUE with OP one of = != < <= > >= in top bottom; for example:",
        "格式为“字段 运算符 值”，运算符可为 = != < <= > >= in top bottom；例如：",
    ),
    "cvalue.fields": ("Fields", "字段"),
    "cvalue.build": ("Build audience", "生成人群"),
    "cvalue.aud.size": ("Audience size", "人群规模"),
    "cvalue.aud.matched": ("Matched the conditions", "满足条件"),
    "cvalue.aud.without_consent": ("Left out: no marketing consent", "因无营销许可排除"),
    "cvalue.aud.expected_value": ("Expected lifetime value", "预期终身价值"),
    "cvalue.aud.expected_buyers": ("Expected buyers", "预期购买人数"),
    "cvalue.aud.expected_revenue": ("Expected revenue", "预期收入"),
    "cvalue.aud.consent_note": (
        "Consent is read from the store at this moment, not from the scoring run.",
        "营销许可按数据库当前记录读取，而非评分时的记录。",
    ),
    "cvalue.aud.preview": ("First {n} of {size} members", "{size} 位成员中的前 {n} 位"),
    "cvalue.aud.empty": ("No customer meets every condition.", "没有客户满足全部条件。"),
    "cvalue.download": ("Download CSV", "下载 CSV"),
    "cvalue.export_readers": (
        "Downloading an audience needs an operator or admin key.",
        "下载人群名单需要运营或管理员密钥。",
    ),
    "cvalue.export_forbidden": (
        "Your key may not download audiences; an operator or admin key can.",
        "您的密钥无权下载人群名单，需要运营或管理员密钥。",
    ),
    "cvalue.bad_form": (
        "The form has expired; reload the page and try again.",
        "表单已过期，请刷新页面后重试。",
    ),
    "cvalue.line_error": ("Line {n} ({text}): {reason}", "第 {n} 行（{text}）：{reason}"),
    "cvalue.too_long": ("The conditions may hold at most {n} characters.", "条件最多 {n} 个字符。"),
    "cvalue.too_many": ("At most {n} conditions.", "最多 {n} 个条件。"),
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
    "dq.warning.photos_missing": (
        "Product photos whose file is gone (moved or deleted since the load)",
        "文件已不存在的商品图片（加载后被移动或删除）",
    ),
    "dq.warning.guest_orders": (
        "Orders without a customer (guest checkouts or aggregated sales)",
        "没有客户的订单（游客下单或汇总销售）",
    ),
    "table.products": ("products", "商品 products"),
    "table.product_images": ("product images", "商品图片 product_images"),
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
    "jobkind.customers": (
        "Segments, lifetime value, propensity, churn risk and high-value rules",
        "客户分群、终身价值、购买倾向、流失风险与高价值客户规则",
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
