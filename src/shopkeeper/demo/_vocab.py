"""Bilingual word lists the demo shop is assembled from.

Everything the generator writes as text (titles, cities, reviews, FAQ) comes
from here, so the wording can be improved without touching the simulation.
Chinese comes first in each pair, English second.
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[str, str]  # (Chinese, English)


@dataclass(frozen=True)
class Top:
    """A top-level category and the behaviour its products share.

    ``elasticity`` is the planted own-price elasticity of demand; ``rebuy`` the
    chance a consumable purchase is followed by a re-purchase of the same
    product one cycle later; ``returns`` the base share of order lines sent back.
    """

    name: str
    zh: str
    elasticity: float
    margin: tuple[float, float]
    returns: float
    rebuy: float
    adjectives: tuple[Pair, ...]
    brands: tuple[str, ...]
    good: tuple[Pair, ...]  # what a happy reviewer praises
    bad: tuple[Pair, ...]  # what an unhappy reviewer complains about
    features: tuple[Pair, ...]  # description phrases


@dataclass(frozen=True)
class Sub:
    """A second-level category: the product nouns it sells and their price level.

    ``cycle_days`` is the typical time until a consumable is used up (0 for
    durables, which are not re-bought on a cycle); ``weight`` its share of
    the catalog and of demand.
    """

    top: str
    name: str
    zh: str
    items: tuple[Pair, ...]
    sizes: tuple[str, ...]
    median_price: float
    weight: float
    cycle_days: float = 0.0


TOPS: tuple[Top, ...] = (
    Top(
        "Grocery",
        "食品饮料",
        -1.6,
        (0.18, 0.35),
        0.01,
        0.35,
        (
            ("有机", "Organic"),
            ("低糖", "Low-sugar"),
            ("进口", "Imported"),
            ("经典", "Classic"),
            ("家庭装", "Family-size"),
            ("无添加", "Additive-free"),
            ("高纤", "High-fibre"),
        ),
        ("GoodGrain", "SunHarvest", "MorningFarm", "JadeLeaf", "RedLantern", "NorthField"),
        (
            ("味道很好", "tastes great"),
            ("很新鲜", "is very fresh"),
            ("口感不错", "has a lovely texture"),
            ("分量很足", "is a generous size"),
        ),
        (
            ("味道一般", "tastes bland"),
            ("快过期了", "was close to its expiry date"),
            ("包装破了", "arrived with torn packaging"),
            ("太甜了", "is far too sweet"),
        ),
        (
            ("精选原料，品质稳定", "carefully chosen ingredients and steady quality"),
            ("独立小包装，方便携带", "individually packed, easy to carry"),
            ("全家都适合", "suits the whole family"),
        ),
    ),
    Top(
        "Personal Care",
        "个人护理",
        -1.4,
        (0.3, 0.5),
        0.02,
        0.4,
        (
            ("温和", "Gentle"),
            ("清爽", "Fresh"),
            ("控油", "Oil-control"),
            ("植物", "Botanical"),
            ("敏感肌", "Sensitive"),
            ("无硅油", "Silicone-free"),
        ),
        ("PureLeaf", "AquaMint", "SilkWay", "CloudBath", "Herbwise"),
        (
            ("用起来很舒服", "feels great to use"),
            ("香味淡雅", "has a subtle scent"),
            ("效果明显", "works really well"),
            ("很温和不刺激", "is gentle, no irritation"),
        ),
        (
            ("用了会痒", "made my skin itch"),
            ("味道太冲", "smells too strong"),
            ("没什么效果", "does nothing"),
            ("瓶子漏了", "leaked in the parcel"),
        ),
        (
            ("温和配方，日常使用", "a mild formula for every day"),
            ("大容量，更划算", "a large size that lasts"),
            ("经皮肤科测试", "dermatologically tested"),
        ),
    ),
    Top(
        "Beauty",
        "美妆护肤",
        -1.3,
        (0.45, 0.6),
        0.04,
        0.3,
        (
            ("保湿", "Hydrating"),
            ("修护", "Repair"),
            ("持久", "Long-wear"),
            ("轻薄", "Light"),
            ("焕亮", "Brightening"),
            ("哑光", "Matte"),
        ),
        ("Lumière", "RoseDew", "Velvetine", "PearlSkin", "Aurora Lab"),
        (
            ("肤感很好", "feels lovely on the skin"),
            ("颜色很正", "has a true colour"),
            ("很保湿", "is really hydrating"),
            ("正品无疑", "is clearly genuine"),
        ),
        (
            ("有点假", "looks like a fake"),
            ("容易脱妆", "wears off quickly"),
            ("闷痘", "gave me breakouts"),
            ("颜色和图片不符", "looks nothing like the photo"),
        ),
        (
            ("专柜同款", "the same as in department stores"),
            ("清爽不黏腻", "light and never sticky"),
            ("适合各种肤质", "for all skin types"),
        ),
    ),
    Top(
        "Household",
        "家居清洁",
        -1.5,
        (0.18, 0.35),
        0.01,
        0.4,
        (
            ("除菌", "Antibacterial"),
            ("浓缩", "Concentrated"),
            ("柔软", "Soft"),
            ("环保", "Eco"),
            ("无香", "Unscented"),
            ("加厚", "Extra-thick"),
        ),
        ("CleanNest", "BrightHome", "SoftCloud", "EcoWave", "Sparkle"),
        (
            ("去污力强", "cleans really well"),
            ("很耐用", "lasts a long time"),
            ("性价比高", "is great value"),
            ("很柔软", "is very soft"),
        ),
        (
            ("太薄了", "is too thin"),
            ("去污效果差", "hardly cleans anything"),
            ("有刺鼻味", "has a harsh smell"),
            ("漏液了", "leaked in the box"),
        ),
        (
            ("家庭囤货装", "a stock-up pack for the home"),
            ("温和不伤手", "kind to your hands"),
            ("高效去污", "powerful cleaning"),
        ),
    ),
    Top(
        "Baby",
        "母婴用品",
        -0.8,
        (0.18, 0.32),
        0.02,
        0.5,
        (
            ("超薄", "Ultra-thin"),
            ("透气", "Breathable"),
            ("婴儿", "Baby"),
            ("有机", "Organic"),
            ("温和", "Gentle"),
        ),
        ("LittleStar", "TinySteps", "MamaCare", "Cuddle", "Sprout"),
        (
            ("宝宝很喜欢", "my baby loves it"),
            ("很透气", "breathes well"),
            ("不红屁屁", "caused no rash at all"),
            ("放心使用", "feels safe to use"),
        ),
        (
            ("宝宝过敏了", "gave my baby a rash"),
            ("侧漏", "leaks at the sides"),
            ("味道怪怪的", "smells odd"),
            ("和以前的不一样", "is not the same as before"),
        ),
        (
            ("专为宝宝设计", "designed for babies"),
            ("安全无刺激", "safe and gentle"),
            ("妈妈们的信赖之选", "a choice parents trust"),
        ),
    ),
    Top(
        "Pet",
        "宠物用品",
        -1.0,
        (0.2, 0.4),
        0.02,
        0.5,
        (
            ("天然", "Natural"),
            ("无谷", "Grain-free"),
            ("高蛋白", "High-protein"),
            ("低敏", "Hypoallergenic"),
            ("除臭", "Odour-control"),
        ),
        ("HappyPaw", "WhiskerCo", "BarkBox", "PurrFect", "TailWag"),
        (
            ("猫咪爱吃", "my cat loves it"),
            ("狗狗吃得很香", "my dog wolfs it down"),
            ("除臭效果好", "controls odour well"),
            ("毛色变好了", "made the coat shinier"),
        ),
        (
            ("猫咪不爱吃", "my cat won't touch it"),
            ("吃了拉肚子", "upset my dog's stomach"),
            ("粉尘太大", "is very dusty"),
            ("结团不好", "doesn't clump well"),
        ),
        (
            ("营养均衡配方", "a balanced recipe"),
            ("适口性好", "pets love the taste"),
            ("兽医推荐", "recommended by vets"),
        ),
    ),
    Top(
        "Health",
        "健康保健",
        -1.1,
        (0.4, 0.6),
        0.01,
        0.4,
        (
            ("高含量", "High-strength"),
            ("复合", "Complete"),
            ("儿童", "Kids"),
            ("缓释", "Slow-release"),
            ("进口", "Imported"),
        ),
        ("VitaPlus", "NatureWay", "DailyWell", "PureLife", "OceanGold"),
        (
            ("吃了精神好", "gives me more energy"),
            ("容易吞咽", "is easy to swallow"),
            ("日期很新", "has a long shelf life"),
            ("家人都在吃", "the whole family takes it"),
        ),
        (
            ("胶囊太大", "has huge capsules"),
            ("有腥味", "has a fishy taste"),
            ("感觉没用", "doesn't seem to help"),
            ("日期不新鲜", "was close to expiry"),
        ),
        (
            ("科学配比", "a balanced formulation"),
            ("每日一粒", "one a day"),
            ("第三方检测", "tested by an independent lab"),
        ),
    ),
    Top(
        "Electronics",
        "数码电子",
        -2.4,
        (0.12, 0.3),
        0.06,
        0.0,
        (
            ("快充", "Fast-charge"),
            ("无线", "Wireless"),
            ("降噪", "Noise-cancelling"),
            ("便携", "Portable"),
            ("智能", "Smart"),
            ("超薄", "Slim"),
        ),
        ("Voltix", "NovaTech", "Zentro", "PixelOne", "Orbit", "Kinetic"),
        (
            ("音质很好", "sounds great"),
            ("续航很长", "has a long battery life"),
            ("做工精细", "is well made"),
            ("连接稳定", "connects reliably"),
        ),
        (
            ("用了一周就坏了", "broke after a week"),
            ("续航很差", "has poor battery life"),
            ("接触不良", "has a loose connection"),
            ("发热严重", "gets very hot"),
        ),
        (
            ("全新升级版", "the new upgraded model"),
            ("一年质保", "one-year warranty"),
            ("兼容主流设备", "works with popular devices"),
        ),
    ),
    Top(
        "Home & Kitchen",
        "家居厨房",
        -1.8,
        (0.3, 0.5),
        0.05,
        0.0,
        (
            ("不粘", "Non-stick"),
            ("北欧", "Nordic"),
            ("加厚", "Heavy-duty"),
            ("多功能", "Multi-use"),
            ("简约", "Minimal"),
            ("304不锈钢", "Stainless"),
        ),
        ("HomeWell", "Nordic Nest", "ChefMate", "CozyDen", "Oakline"),
        (
            ("质量很好", "is solid quality"),
            ("颜值很高", "looks beautiful"),
            ("很实用", "is really practical"),
            ("好清洗", "is easy to clean"),
        ),
        (
            ("有异味", "has a chemical smell"),
            ("做工粗糙", "is badly made"),
            ("涂层掉了", "lost its coating"),
            ("尺寸不对", "is the wrong size"),
        ),
        (
            ("精选材质，经久耐用", "quality materials that last"),
            ("简约设计，百搭", "a clean design that fits any home"),
            ("易清洗", "easy to clean"),
        ),
    ),
    Top(
        "Fashion",
        "服饰鞋包",
        -2.0,
        (0.4, 0.62),
        0.14,
        0.0,
        (
            ("纯棉", "Cotton"),
            ("修身", "Slim-fit"),
            ("宽松", "Relaxed"),
            ("复古", "Vintage"),
            ("百搭", "Everyday"),
            ("轻便", "Lightweight"),
        ),
        ("UrbanThread", "Linen & Co", "StrideOn", "Maple", "Cloudwalk", "Eastwind"),
        (
            ("尺码很准", "fits true to size"),
            ("面料舒服", "the fabric is comfortable"),
            ("款式好看", "looks great on"),
            ("穿着很舒服", "is very comfortable"),
        ),
        (
            ("尺码偏小", "runs small"),
            ("起球了", "started pilling"),
            ("掉色", "the colour runs"),
            ("线头很多", "has loose threads everywhere"),
        ),
        (
            ("当季新款", "new this season"),
            ("舒适面料", "a comfortable fabric"),
            ("多色可选", "several colours"),
        ),
    ),
    Top(
        "Sports & Outdoors",
        "运动户外",
        -1.9,
        (0.3, 0.5),
        0.06,
        0.0,
        (
            ("专业", "Pro"),
            ("防滑", "Non-slip"),
            ("轻量", "Ultralight"),
            ("防水", "Waterproof"),
            ("加厚", "Thick"),
        ),
        ("PeakPoint", "TrailBlaze", "FitCore", "Summit", "AeroSport"),
        (
            ("很结实", "is really sturdy"),
            ("手感很好", "feels great in the hand"),
            ("轻便好带", "is light and easy to carry"),
            ("防滑效果好", "grips well"),
        ),
        (
            ("不太结实", "feels flimsy"),
            ("有异味", "smells of rubber"),
            ("用了几次就坏", "broke after a few uses"),
            ("和描述不符", "is not as described"),
        ),
        (
            ("运动达人推荐", "recommended by athletes"),
            ("耐用材质", "durable materials"),
            ("户外必备", "an outdoor essential"),
        ),
    ),
    Top(
        "Books & Stationery",
        "图书文具",
        -1.3,
        (0.18, 0.4),
        0.02,
        0.25,
        (
            ("经典", "Classic"),
            ("畅销", "Bestselling"),
            ("图解", "Illustrated"),
            ("精选", "Select"),
            ("学生", "Student"),
        ),
        ("InkWell", "PaperLeaf", "Scholar", "Bamboo Press", "QuillCo"),
        (
            ("印刷清晰", "is crisply printed"),
            ("内容很好", "has great content"),
            ("书写顺滑", "writes smoothly"),
            ("纸张很好", "has lovely paper"),
        ),
        (
            ("有折痕", "arrived creased"),
            ("断墨", "skips when writing"),
            ("盗版印刷", "looks like a pirated print"),
            ("纸张很薄", "has thin paper"),
        ),
        (
            ("正版图书", "an authorised edition"),
            ("学生办公必备", "for school and office"),
            ("纸张厚实", "thick quality paper"),
        ),
    ),
)

SUBS: tuple[Sub, ...] = (
    Sub(
        "Grocery",
        "Breakfast",
        "早餐",
        (
            ("燕麦片", "Oats"),
            ("格兰诺拉麦片", "Granola"),
            ("蜂蜜", "Honey"),
            ("果酱", "Jam"),
            ("什锦麦片", "Muesli"),
        ),
        ("500g", "1kg", "750g", "2kg"),
        39.0,
        1.2,
        30.0,
    ),
    Sub(
        "Grocery",
        "Snacks",
        "休闲零食",
        (
            ("每日坚果", "Mixed Nuts"),
            ("饼干", "Biscuits"),
            ("薯片", "Potato Chips"),
            ("牛肉干", "Beef Jerky"),
            ("海苔", "Seaweed Snack"),
            ("果干", "Dried Fruit"),
        ),
        ("200g", "500g", "6 packs", "30 packs"),
        29.0,
        1.6,
        20.0,
    ),
    Sub(
        "Grocery",
        "Beverages",
        "饮品",
        (
            ("矿泉水", "Mineral Water"),
            ("气泡水", "Sparkling Water"),
            ("果汁", "Fruit Juice"),
            ("纯牛奶", "Whole Milk"),
            ("椰子水", "Coconut Water"),
        ),
        ("12x500ml", "24x330ml", "6x1L"),
        49.0,
        1.4,
        14.0,
    ),
    Sub(
        "Grocery",
        "Coffee & Tea",
        "咖啡茶饮",
        (
            ("咖啡豆", "Coffee Beans"),
            ("挂耳咖啡", "Drip Coffee"),
            ("速溶咖啡", "Instant Coffee"),
            ("绿茶", "Green Tea"),
            ("乌龙茶", "Oolong Tea"),
            ("红茶", "Black Tea"),
        ),
        ("250g", "500g", "30 bags", "100 bags"),
        69.0,
        1.3,
        25.0,
    ),
    Sub(
        "Grocery",
        "Pantry",
        "粮油调味",
        (
            ("大米", "Rice"),
            ("橄榄油", "Olive Oil"),
            ("酱油", "Soy Sauce"),
            ("挂面", "Noodles"),
            ("花生油", "Peanut Oil"),
        ),
        ("5kg", "1L", "500ml", "2.5kg"),
        59.0,
        1.1,
        35.0,
    ),
    Sub(
        "Personal Care",
        "Hair Care",
        "洗发护发",
        (
            ("洗发水", "Shampoo"),
            ("护发素", "Conditioner"),
            ("发膜", "Hair Mask"),
            ("防脱洗发水", "Anti-hair-loss Shampoo"),
        ),
        ("400ml", "750ml", "1L"),
        59.0,
        1.1,
        45.0,
    ),
    Sub(
        "Personal Care",
        "Oral Care",
        "口腔护理",
        (
            ("牙膏", "Toothpaste"),
            ("电动牙刷刷头", "Toothbrush Heads"),
            ("漱口水", "Mouthwash"),
            ("牙线", "Dental Floss"),
        ),
        ("120g", "3 pack", "500ml"),
        29.0,
        0.9,
        40.0,
    ),
    Sub(
        "Personal Care",
        "Body Care",
        "身体护理",
        (
            ("沐浴露", "Body Wash"),
            ("身体乳", "Body Lotion"),
            ("洗手液", "Hand Soap"),
            ("香皂", "Bar Soap"),
        ),
        ("500ml", "1L", "4 bars"),
        45.0,
        1.0,
        40.0,
    ),
    Sub(
        "Beauty",
        "Skin Care",
        "护肤",
        (
            ("洁面乳", "Facial Cleanser"),
            ("爽肤水", "Toner"),
            ("精华液", "Serum"),
            ("面霜", "Face Cream"),
            ("面膜", "Sheet Mask"),
            ("防晒霜", "Sunscreen"),
        ),
        ("30ml", "50ml", "100ml", "10 sheets"),
        159.0,
        1.3,
        50.0,
    ),
    Sub(
        "Beauty",
        "Makeup",
        "彩妆",
        (
            ("口红", "Lipstick"),
            ("粉底液", "Foundation"),
            ("眼影盘", "Eyeshadow Palette"),
            ("睫毛膏", "Mascara"),
            ("腮红", "Blush"),
        ),
        ("#01", "#02", "#03", "#05"),
        129.0,
        0.9,
    ),
    Sub(
        "Beauty",
        "Fragrance",
        "香水",
        (("淡香水", "Eau de Toilette"), ("香水", "Perfume"), ("香氛身体喷雾", "Body Mist")),
        ("30ml", "50ml", "100ml"),
        399.0,
        0.4,
    ),
    Sub(
        "Household",
        "Laundry",
        "衣物洗护",
        (
            ("洗衣液", "Laundry Detergent"),
            ("洗衣凝珠", "Laundry Pods"),
            ("柔顺剂", "Fabric Softener"),
        ),
        ("2kg", "3kg", "30 pods", "52 pods"),
        49.0,
        1.0,
        40.0,
    ),
    Sub(
        "Household",
        "Paper",
        "纸品湿巾",
        (
            ("抽纸", "Facial Tissue"),
            ("卷纸", "Toilet Paper"),
            ("湿巾", "Wet Wipes"),
            ("厨房纸", "Kitchen Towels"),
        ),
        ("10 packs", "24 rolls", "80 wipes", "6 rolls"),
        39.0,
        1.3,
        21.0,
    ),
    Sub(
        "Household",
        "Cleaning",
        "清洁用品",
        (
            ("洗洁精", "Dish Soap"),
            ("消毒液", "Disinfectant"),
            ("垃圾袋", "Trash Bags"),
            ("地板清洁剂", "Floor Cleaner"),
        ),
        ("500ml", "1.5L", "100 bags"),
        25.0,
        0.9,
        45.0,
    ),
    Sub(
        "Baby",
        "Diapers",
        "纸尿裤",
        (("纸尿裤", "Diapers"), ("拉拉裤", "Pull-up Pants")),
        ("S 84", "M 72", "L 60", "XL 48"),
        129.0,
        0.7,
        12.0,
    ),
    Sub(
        "Baby",
        "Formula",
        "奶粉辅食",
        (("婴儿奶粉", "Infant Formula"), ("婴儿米粉", "Rice Cereal"), ("果泥", "Fruit Puree")),
        ("800g", "900g", "6 pouches"),
        259.0,
        0.6,
        18.0,
    ),
    Sub(
        "Baby",
        "Baby Care",
        "婴童洗护",
        (("婴儿湿巾", "Baby Wipes"), ("婴儿洗发沐浴露", "Baby Wash"), ("护臀膏", "Nappy Cream")),
        ("80 wipes", "300ml", "50g"),
        59.0,
        0.5,
        30.0,
    ),
    Sub(
        "Pet",
        "Dog Food",
        "狗粮",
        (
            ("成犬粮", "Adult Dog Food"),
            ("幼犬粮", "Puppy Food"),
            ("冻干狗粮", "Freeze-dried Dog Food"),
        ),
        ("2kg", "5kg", "10kg"),
        159.0,
        0.8,
        30.0,
    ),
    Sub(
        "Pet",
        "Cat Food",
        "猫粮",
        (
            ("成猫粮", "Adult Cat Food"),
            ("猫罐头", "Wet Cat Food"),
            ("冻干猫粮", "Freeze-dried Cat Food"),
        ),
        ("1.5kg", "24 cans", "4kg"),
        129.0,
        0.9,
        25.0,
    ),
    Sub(
        "Pet",
        "Cat Litter",
        "猫砂",
        (
            ("豆腐猫砂", "Tofu Cat Litter"),
            ("膨润土猫砂", "Clay Cat Litter"),
            ("混合猫砂", "Mixed Cat Litter"),
        ),
        ("6L", "10kg", "4 bags"),
        49.0,
        0.7,
        18.0,
    ),
    Sub(
        "Pet",
        "Pet Supplies",
        "宠物用品",
        (
            ("宠物零食", "Pet Treats"),
            ("狗狗玩具", "Dog Toy"),
            ("猫抓板", "Cat Scratcher"),
            ("宠物窝", "Pet Bed"),
            ("牵引绳", "Dog Leash"),
        ),
        ("S", "M", "L"),
        39.0,
        0.6,
    ),
    Sub(
        "Health",
        "Vitamins",
        "维生素",
        (
            ("复合维生素", "Multivitamin"),
            ("维生素C", "Vitamin C"),
            ("维生素D3", "Vitamin D3"),
            ("钙片", "Calcium Tablets"),
        ),
        ("60 tablets", "120 tablets", "90 gummies"),
        129.0,
        0.8,
        60.0,
    ),
    Sub(
        "Health",
        "Supplements",
        "营养补充",
        (
            ("鱼油", "Fish Oil"),
            ("蛋白粉", "Protein Powder"),
            ("益生菌", "Probiotics"),
            ("胶原蛋白", "Collagen"),
        ),
        ("90 softgels", "900g", "30 sachets"),
        199.0,
        0.8,
        45.0,
    ),
    Sub(
        "Electronics",
        "Phone Accessories",
        "手机配件",
        (
            ("手机壳", "Phone Case"),
            ("钢化膜", "Screen Protector"),
            ("快充充电器", "Fast Charger"),
            ("数据线", "USB-C Cable"),
            ("充电宝", "Power Bank"),
        ),
        ("20W", "65W", "1m", "2m", "10000mAh"),
        59.0,
        1.4,
    ),
    Sub(
        "Electronics",
        "Audio",
        "影音娱乐",
        (
            ("蓝牙耳机", "Bluetooth Earbuds"),
            ("头戴式耳机", "Headphones"),
            ("蓝牙音箱", "Bluetooth Speaker"),
        ),
        ("Black", "White", "Blue"),
        299.0,
        0.9,
    ),
    Sub(
        "Electronics",
        "Computer",
        "电脑外设",
        (
            ("无线鼠标", "Wireless Mouse"),
            ("机械键盘", "Mechanical Keyboard"),
            ("笔记本支架", "Laptop Stand"),
            ("移动固态硬盘", "Portable SSD"),
            ("扩展坞", "USB-C Hub"),
        ),
        ("Black", "Grey", "1TB", "512GB"),
        199.0,
        0.9,
    ),
    Sub(
        "Electronics",
        "Smart Home",
        "智能家居",
        (
            ("智能插座", "Smart Plug"),
            ("智能灯泡", "Smart Bulb"),
            ("扫地机器人", "Robot Vacuum"),
            ("监控摄像头", "Security Camera"),
        ),
        ("Wi-Fi", "2 pack", "Pro"),
        229.0,
        0.6,
    ),
    Sub(
        "Home & Kitchen",
        "Cookware",
        "锅具",
        (
            ("不粘锅", "Frying Pan"),
            ("炒锅", "Wok"),
            ("汤锅", "Stock Pot"),
            ("铸铁锅", "Cast Iron Pot"),
        ),
        ("24cm", "28cm", "32cm"),
        249.0,
        0.8,
    ),
    Sub(
        "Home & Kitchen",
        "Kitchen Tools",
        "厨房用具",
        (
            ("刀具套装", "Knife Set"),
            ("砧板", "Cutting Board"),
            ("保鲜盒", "Food Containers"),
            ("硅胶铲", "Silicone Spatula"),
        ),
        ("Set of 3", "Set of 5", "Large"),
        69.0,
        0.9,
    ),
    Sub(
        "Home & Kitchen",
        "Bedding",
        "床上用品",
        (
            ("四件套", "Bedding Set"),
            ("枕头", "Pillow"),
            ("羽绒被", "Duvet"),
            ("乳胶床垫", "Latex Topper"),
        ),
        ("1.5m", "1.8m", "Queen", "King"),
        299.0,
        0.8,
    ),
    Sub(
        "Home & Kitchen",
        "Small Appliances",
        "小家电",
        (
            ("电饭煲", "Rice Cooker"),
            ("空气炸锅", "Air Fryer"),
            ("电水壶", "Electric Kettle"),
            ("破壁机", "Blender"),
        ),
        ("3L", "5L", "1.7L"),
        299.0,
        0.9,
    ),
    Sub(
        "Home & Kitchen",
        "Storage",
        "收纳整理",
        (("收纳箱", "Storage Box"), ("衣架", "Hangers"), ("置物架", "Shelf Rack")),
        ("3 pack", "20 pack", "4-tier"),
        59.0,
        0.7,
    ),
    Sub(
        "Fashion",
        "Women",
        "女装",
        (
            ("连衣裙", "Dress"),
            ("针织衫", "Knit Sweater"),
            ("风衣", "Trench Coat"),
            ("半身裙", "Skirt"),
            ("T恤", "T-shirt"),
        ),
        ("S", "M", "L", "XL"),
        199.0,
        1.2,
    ),
    Sub(
        "Fashion",
        "Men",
        "男装",
        (
            ("衬衫", "Shirt"),
            ("夹克", "Jacket"),
            ("休闲裤", "Chinos"),
            ("羽绒服", "Down Jacket"),
            ("Polo衫", "Polo Shirt"),
        ),
        ("M", "L", "XL", "XXL"),
        229.0,
        1.0,
    ),
    Sub(
        "Fashion",
        "Shoes",
        "鞋靴",
        (
            ("跑步鞋", "Running Shoes"),
            ("帆布鞋", "Canvas Sneakers"),
            ("短靴", "Ankle Boots"),
            ("拖鞋", "Slippers"),
        ),
        ("EU 38", "EU 40", "EU 42", "EU 44"),
        299.0,
        0.9,
    ),
    Sub(
        "Fashion",
        "Socks & Underwear",
        "内衣袜子",
        (("袜子", "Socks"), ("内裤", "Underwear"), ("保暖内衣", "Thermal Underwear")),
        ("5 pairs", "3 pack", "M", "L"),
        59.0,
        0.7,
        90.0,
    ),
    Sub(
        "Fashion",
        "Bags",
        "箱包",
        (
            ("双肩包", "Backpack"),
            ("托特包", "Tote Bag"),
            ("行李箱", "Suitcase"),
            ("钱包", "Wallet"),
        ),
        ("20L", "24in", "Black", "Brown"),
        259.0,
        0.7,
    ),
    Sub(
        "Sports & Outdoors",
        "Fitness",
        "健身训练",
        (
            ("瑜伽垫", "Yoga Mat"),
            ("哑铃", "Dumbbells"),
            ("弹力带", "Resistance Bands"),
            ("跳绳", "Jump Rope"),
        ),
        ("6mm", "10mm", "2x5kg", "Set"),
        99.0,
        0.8,
    ),
    Sub(
        "Sports & Outdoors",
        "Outdoor",
        "户外装备",
        (
            ("帐篷", "Tent"),
            ("登山杖", "Trekking Poles"),
            ("保温杯", "Insulated Bottle"),
            ("露营椅", "Camping Chair"),
        ),
        ("2-person", "500ml", "750ml", "Pair"),
        199.0,
        0.7,
    ),
    Sub(
        "Sports & Outdoors",
        "Cycling",
        "骑行",
        (
            ("骑行头盔", "Cycling Helmet"),
            ("自行车灯", "Bike Light"),
            ("骑行手套", "Cycling Gloves"),
        ),
        ("M", "L", "USB"),
        129.0,
        0.4,
    ),
    Sub(
        "Books & Stationery",
        "Books",
        "图书",
        (
            ("小说", "Novel"),
            ("儿童绘本", "Picture Book"),
            ("编程入门", "Programming Guide"),
            ("中国历史", "Chinese History"),
            ("家常菜谱", "Home Cookbook"),
        ),
        ("Paperback", "Hardcover"),
        59.0,
        0.9,
    ),
    Sub(
        "Books & Stationery",
        "Stationery",
        "文具",
        (
            ("中性笔", "Gel Pens"),
            ("笔记本", "Notebook"),
            ("便利贴", "Sticky Notes"),
            ("钢笔", "Fountain Pen"),
            ("文件夹", "Folders"),
        ),
        ("12 pack", "A5", "B5", "Set"),
        29.0,
        0.8,
        60.0,
    ),
)

# Sub-category pairs whose products are bought together ("frequently bought
# together"): the generator links popular products of the first to products
# of the second, which market-basket mining should find as high-lift rules.
COMPLEMENTS: tuple[tuple[str, str], ...] = (
    ("Breakfast", "Beverages"),
    ("Coffee & Tea", "Snacks"),
    ("Hair Care", "Hair Care"),
    ("Oral Care", "Oral Care"),
    ("Skin Care", "Skin Care"),
    ("Laundry", "Laundry"),
    ("Diapers", "Baby Care"),
    ("Dog Food", "Pet Supplies"),
    ("Cat Food", "Cat Litter"),
    ("Phone Accessories", "Phone Accessories"),
    ("Computer", "Computer"),
    ("Cookware", "Kitchen Tools"),
    ("Fitness", "Fitness"),
    ("Shoes", "Socks & Underwear"),
    ("Stationery", "Stationery"),
)

STYLES: tuple[str, ...] = ("natural", "tech", "premium", "family")

# Cities where customers live: (name, ISO country, weight, warehouse region,
# distance class from that warehouse: 0 near, 1 regional, 2 remote, 3 abroad).
CITIES: tuple[tuple[str, str, float, str, int], ...] = (
    ("上海", "CN", 9.0, "SH", 0),
    ("北京", "CN", 8.0, "BJ", 0),
    ("深圳", "CN", 7.0, "GZ", 0),
    ("广州", "CN", 6.0, "GZ", 0),
    ("杭州", "CN", 5.0, "SH", 0),
    ("成都", "CN", 4.5, "GZ", 1),
    ("重庆", "CN", 3.5, "GZ", 1),
    ("武汉", "CN", 3.5, "SH", 1),
    ("南京", "CN", 3.5, "SH", 0),
    ("苏州", "CN", 3.5, "SH", 0),
    ("西安", "CN", 3.0, "BJ", 1),
    ("天津", "CN", 3.0, "BJ", 0),
    ("长沙", "CN", 2.5, "GZ", 1),
    ("郑州", "CN", 2.5, "BJ", 1),
    ("青岛", "CN", 2.0, "BJ", 1),
    ("厦门", "CN", 2.0, "GZ", 1),
    ("宁波", "CN", 2.0, "SH", 0),
    ("合肥", "CN", 2.0, "SH", 1),
    ("东莞", "CN", 2.0, "GZ", 0),
    ("佛山", "CN", 1.8, "GZ", 0),
    ("无锡", "CN", 1.8, "SH", 0),
    ("沈阳", "CN", 1.8, "BJ", 1),
    ("济南", "CN", 1.8, "BJ", 1),
    ("福州", "CN", 1.6, "GZ", 1),
    ("大连", "CN", 1.5, "BJ", 1),
    ("南宁", "CN", 1.2, "GZ", 1),
    ("昆明", "CN", 1.5, "GZ", 2),
    ("哈尔滨", "CN", 1.4, "BJ", 2),
    ("兰州", "CN", 0.8, "BJ", 2),
    ("乌鲁木齐", "CN", 0.8, "BJ", 2),
    ("Singapore", "SG", 1.6, "SH", 3),
    ("Kuala Lumpur", "MY", 1.0, "SH", 3),
    ("Sydney", "AU", 1.0, "SH", 3),
    ("Vancouver", "CA", 0.9, "SH", 3),
    ("Los Angeles", "US", 0.9, "SH", 3),
    ("London", "GB", 0.8, "SH", 3),
    ("Tokyo", "JP", 0.8, "SH", 3),
)

# Transit hubs a parcel may pass between regions.
HUBS: tuple[str, ...] = ("武汉", "郑州", "长沙", "南京", "西安", "济南")

# (location_id, name, kind, city, region)
LOCATIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("WH-SH", "上海青浦仓 Shanghai Qingpu Warehouse", "warehouse", "上海", "SH"),
    ("WH-GZ", "广州白云仓 Guangzhou Baiyun Warehouse", "warehouse", "广州", "GZ"),
    ("WH-BJ", "北京大兴仓 Beijing Daxing Warehouse", "warehouse", "北京", "BJ"),
    ("ST-SH01", "上海南京西路店 Shanghai West Nanjing Road Store", "store", "上海", "SH"),
    ("ST-BJ01", "北京三里屯店 Beijing Sanlitun Store", "store", "北京", "BJ"),
    ("ST-HZ01", "杭州湖滨店 Hangzhou Lakeside Store", "store", "杭州", "SH"),
)

SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.2),
    ("李", "li", 7.1),
    ("张", "zhang", 6.8),
    ("刘", "liu", 5.4),
    ("陈", "chen", 4.5),
    ("杨", "yang", 3.2),
    ("黄", "huang", 2.4),
    ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0),
    ("周", "zhou", 2.0),
    ("徐", "xu", 1.5),
    ("孙", "sun", 1.5),
    ("马", "ma", 1.4),
    ("朱", "zhu", 1.3),
    ("胡", "hu", 1.2),
    ("郭", "guo", 1.1),
    ("何", "he", 1.0),
    ("林", "lin", 1.0),
    ("高", "gao", 1.0),
    ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9),
    ("梁", "liang", 0.8),
    ("谢", "xie", 0.7),
    ("宋", "song", 0.6),
    ("唐", "tang", 0.6),
    ("许", "xu", 0.6),
    ("韩", "han", 0.6),
    ("冯", "feng", 0.5),
    ("邓", "deng", 0.5),
    ("曹", "cao", 0.5),
)

GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("文", "wen"),
    ("华", "hua"),
    ("玲", "ling"),
    ("红", "hong"),
    ("鑫", "xin"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("婷", "ting"),
    ("晨", "chen"),
    ("博", "bo"),
    ("佳", "jia"),
    ("子", "zi"),
    ("轩", "xuan"),
    ("涵", "han"),
    ("雨", "yu"),
    ("梓", "zi"),
    ("睿", "rui"),
    ("思", "si"),
    ("一", "yi"),
    ("嘉", "jia"),
    ("诗", "shi"),
    ("晓", "xiao"),
    ("俊", "jun"),
    ("琳", "lin"),
    ("颖", "ying"),
)

FIRST_NAMES: tuple[str, ...] = (
    "Emily",
    "James",
    "Olivia",
    "Liam",
    "Sophia",
    "Noah",
    "Mia",
    "Lucas",
    "Chloe",
    "Ethan",
    "Grace",
    "Daniel",
    "Hannah",
    "Ryan",
    "Zoe",
    "Jason",
    "Wei",
    "Mei",
    "Kenji",
    "Aisha",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith",
    "Tan",
    "Lim",
    "Brown",
    "Wilson",
    "Lee",
    "Taylor",
    "Ng",
    "Wong",
    "Nguyen",
    "Garcia",
    "Martin",
    "Sato",
    "Kim",
    "Chen",
    "Walker",
)
CN_MAIL: tuple[str, ...] = ("qq.com", "163.com", "126.com", "sina.com", "outlook.com", "gmail.com")
INTL_MAIL: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")
PHONE_PREFIX: dict[str, str] = {
    "CN": "+86",
    "SG": "+65",
    "MY": "+60",
    "AU": "+61",
    "CA": "+1",
    "US": "+1",
    "GB": "+44",
    "JP": "+81",
}

CARRIERS: tuple[str, ...] = ("SF Express", "JD Logistics", "ZTO Express", "YTO Express")

AD_CHANNELS: tuple[str, ...] = ("search", "social", "display", "video", "email")

# --- reviews -------------------------------------------------------------

REVIEW_OPEN: dict[int, tuple[Pair, ...]] = {
    5: (
        ("非常满意！", "Absolutely love it!"),
        ("五星好评！", "Five stars!"),
        ("超出预期，", "Better than expected!"),
        ("太棒了，", "Brilliant."),
        ("第二次买了，", "Second time buying."),
    ),
    4: (
        ("挺好的，", "Pretty good."),
        ("整体满意，", "Happy overall."),
        ("还不错，", "Quite nice."),
        ("值得购买，", "Worth buying."),
    ),
    3: (
        ("一般般，", "It's okay."),
        ("中规中矩，", "Average."),
        ("马马虎虎，", "So-so."),
        ("还行吧，", "Fine, I guess."),
    ),
    2: (
        ("有点失望，", "A bit disappointed."),
        ("不太满意，", "Not really happy."),
        ("不推荐，", "Wouldn't recommend."),
    ),
    1: (
        ("非常失望！", "Very disappointed!"),
        ("差评！", "Terrible!"),
        ("太差了，", "Awful."),
        ("再也不买了，", "Never again."),
    ),
}
REVIEW_FAST: tuple[Pair, ...] = (
    ("物流很快，第二天就到了。", "Delivery was fast, it came the next day."),
    ("快递小哥服务很好。", "The courier was very friendly."),
    ("发货速度快，包装完好。", "Shipped quickly and well packed."),
)
REVIEW_ONTIME: tuple[Pair, ...] = (
    ("物流正常。", "Delivery was on time."),
    ("包装不错。", "Nicely packaged."),
    ("按时送达。", "Arrived as promised."),
)
REVIEW_LATE: tuple[tuple[str, str, str, str], ...] = (
    # (zh before the number of days, zh after, en before, en after)
    ("快递比承诺晚了", "天才到。", "The parcel came ", " days later than promised."),
    ("物流太慢了，晚了", "天。", "Shipping was so slow, ", " days late."),
    (
        "等了好久，迟到",
        "天，客服也不回复。",
        "I waited ages, it was ",
        " days late and support never replied.",
    ),
)
REVIEW_RETURNED: tuple[Pair, ...] = (
    ("已经申请退货。", "I've sent it back."),
    ("退货了。", "Returned it."),
)
REVIEW_CLOSE: dict[int, tuple[Pair, ...]] = {
    1: (("不会再买了。", "Will not buy again."), ("要求退款。", "I want a refund.")),
    2: (("希望改进。", "Hope they improve."), ("不会回购。", "Won't reorder.")),
    3: (("凑合用吧。", "It will do."), ("看以后吧。", "We'll see.")),
    4: (("会考虑回购。", "Might buy again."), ("推荐。", "Recommended.")),
    5: (
        ("会回购的！", "Will definitely buy again!"),
        ("强烈推荐！", "Highly recommend!"),
        ("已经推荐给朋友了。", "Already recommended it to friends."),
    ),
}

# --- search --------------------------------------------------------------

SEARCH_EXTRA: tuple[Pair, ...] = (
    ("", ""),
    ("", ""),
    ("推荐", "best"),
    ("便宜", "cheap"),
    ("正品", "original"),
    ("包邮", "free shipping"),
    ("大容量", "large"),
    ("新款", "new"),
)

# --- customer service ----------------------------------------------------

# intent -> (zh question, zh answer, en question, en answer)
FAQ: dict[str, tuple[str, str, str, str]] = {
    "order_status": (
        "怎么查看我的订单状态？",
        "登录后进入“我的订单”即可查看每个订单的状态和物流轨迹；也可以把订单号发给客服，我们帮您查询。",
        "How can I check the status of my order?",
        "Sign in and open 'My orders' to see each order's status and tracking. You can also "
        "send us your order number and we will look it up for you.",
    ),
    "shipping_time": (
        "下单后多久发货？",
        "现货商品一般在付款后24小时内发货，大促期间可能延长至48-72小时。",
        "How soon do you ship after I order?",
        "In-stock items usually ship within 24 hours of payment; during big sales it can take "
        "48-72 hours.",
    ),
    "delivery_time": (
        "快递一般几天能到？",
        "江浙沪、京津冀、珠三角一般1-2天送达，其他地区2-4天，偏远地区4-7天。下单页面会显示预计送达日期。",
        "How long does delivery take?",
        "Major cities usually receive parcels in 1-2 days, other regions in 2-4 days and remote "
        "areas in 4-7 days. The checkout page shows the promised delivery date.",
    ),
    "shipping_fee": (
        "运费怎么算？",
        "订单满99元包邮，不满99元收取8元运费；偏远地区另有说明。",
        "How much is shipping?",
        "Shipping is free on orders over 99 yuan; smaller orders pay 8 yuan. Remote areas are "
        "quoted at checkout.",
    ),
    "international_shipping": (
        "可以寄到海外吗？",
        "支持寄送新加坡、马来西亚、澳大利亚、加拿大、美国、英国和日本，时效约7-12天，关税由收件人承担。",
        "Do you ship internationally?",
        "We ship to Singapore, Malaysia, Australia, Canada, the US, the UK and Japan in about "
        "7-12 days; import duties are paid by the recipient.",
    ),
    "change_address": (
        "下单后可以修改收货地址吗？",
        "订单发货前可以在“我的订单”中修改地址；已发货的订单请联系快递公司或客服协助转寄。",
        "Can I change the delivery address after ordering?",
        "Before the order ships you can edit the address under 'My orders'. Once shipped, "
        "contact the carrier or our support team to redirect it.",
    ),
    "cancel_order": (
        "怎么取消订单？",
        "未发货的订单可以在“我的订单”中直接取消，款项原路退回；已发货的订单请在收货后申请退货。",
        "How do I cancel my order?",
        "Orders that have not shipped can be cancelled under 'My orders' and are refunded to "
        "the original payment method. Shipped orders can be returned after delivery.",
    ),
    "returns": (
        "支持七天无理由退货吗？",
        "签收后7天内，商品未使用且包装完好，可申请无理由退货；食品、贴身衣物等特殊商品除外。",
        "What is your return policy?",
        "You can return unused items in their original packaging within 7 days of delivery, "
        "no reason needed. Food and underwear are excluded for hygiene reasons.",
    ),
    "refund_time": (
        "退款多久到账？",
        "仓库收到退货并验收后1-3个工作日内退款，原路返回，银行卡可能需要额外3-5个工作日。",
        "When will I get my refund?",
        "Refunds are issued 1-3 working days after the warehouse receives and checks the "
        "return; card refunds may take another 3-5 working days to appear.",
    ),
    "exchange": (
        "尺码不合适可以换吗？",
        "签收后15天内可申请换货，换货运费由我们承担一次。",
        "Can I exchange an item for another size?",
        "Yes, you can request an exchange within 15 days of delivery; we pay shipping for one "
        "exchange.",
    ),
    "damaged_item": (
        "收到的商品破损了怎么办？",
        "请在签收后48小时内拍照联系客服，我们会为您补发或全额退款。",
        "What should I do if my item arrived damaged?",
        "Please send us photos within 48 hours of delivery and we will send a replacement or "
        "refund you in full.",
    ),
    "missing_item": (
        "收到的包裹少件怎么办？",
        "请核对订单是否分包发货；如确认少件，请联系客服并提供开箱照片，我们会尽快补发。",
        "My parcel is missing an item. What now?",
        "Check whether the order was split into several parcels. If an item is really missing, "
        "contact us with a photo of the opened parcel and we will send it right away.",
    ),
    "payment_methods": (
        "支持哪些支付方式？",
        "支持支付宝、微信支付、银联卡以及Visa/Mastercard信用卡。",
        "Which payment methods do you accept?",
        "We accept Alipay, WeChat Pay, UnionPay and Visa/Mastercard credit cards.",
    ),
    "invoice": (
        "可以开发票吗？",
        "可以开具电子普通发票或增值税专用发票，请在订单详情页申请，发票将发送到您的邮箱。",
        "Can I get an invoice?",
        "Yes. Request an electronic invoice (or a VAT invoice) on the order page and it will "
        "be e-mailed to you.",
    ),
    "coupon": (
        "优惠券怎么用？",
        "结算时系统会自动选择最优优惠券，也可以手动选择；每笔订单限用一张店铺券。",
        "How do I use a coupon?",
        "The best coupon is applied automatically at checkout, or you can pick one yourself; "
        "one shop coupon per order.",
    ),
    "price_protection": (
        "买完降价了可以退差价吗？",
        "签收后7天内如同一商品降价，可申请价格保护退还差价，大促预售商品除外。",
        "The price dropped after I bought. Can I get the difference back?",
        "If the same item gets cheaper within 7 days of delivery you can claim the difference "
        "under price protection (pre-sale items excluded).",
    ),
    "account_login": (
        "登录不了账号怎么办？",
        "请确认手机号或邮箱输入正确，尝试使用短信验证码登录；仍无法登录请联系客服。",
        "I can't log in to my account.",
        "Check the phone number or e-mail you typed and try logging in with a text-message "
        "code. If that fails, contact support.",
    ),
    "password_reset": (
        "忘记密码了怎么重置？",
        "在登录页点击“忘记密码”，通过手机验证码或邮箱链接即可重置。",
        "How do I reset my password?",
        "Click 'Forgot password' on the sign-in page and follow the text-message code or "
        "e-mail link.",
    ),
    "stock_availability": (
        "这个商品还有货吗？",
        "商品页面显示的库存为实时库存；显示“缺货”时可点击“到货提醒”。",
        "Is this item in stock?",
        "The product page shows live stock. If it says out of stock, tap 'Notify me' to hear "
        "when it is back.",
    ),
    "restock": (
        "缺货的商品什么时候补货？",
        "大部分商品会在1-2周内补货，进口商品可能需要3-6周，设置到货提醒后会第一时间通知您。",
        "When will an out-of-stock item be restocked?",
        "Most items are restocked within 1-2 weeks; imported goods can take 3-6 weeks. Set a "
        "restock alert and we will notify you.",
    ),
    "product_authenticity": (
        "你们卖的是正品吗？",
        "所有商品均由品牌方或授权经销商供货，支持专柜验货，假一赔十。",
        "Are your products genuine?",
        "Every product comes from the brand or an authorised distributor. If anything is "
        "found to be fake we refund ten times the price.",
    ),
    "warranty": (
        "电器保修多久？",
        "数码和家电类商品享受一年质保，质保期内非人为损坏免费维修或更换。",
        "What warranty do electronics have?",
        "Electronics and appliances have a one-year warranty covering free repair or "
        "replacement of defects not caused by misuse.",
    ),
    "membership": (
        "会员积分有什么用？",
        "每消费1元积1分，积分可在结算时抵扣现金（100分抵1元），也可兑换优惠券。",
        "What are membership points for?",
        "You earn one point per yuan spent. Points can pay part of an order (100 points = 1 "
        "yuan) or be exchanged for coupons.",
    ),
    "contact_human": (
        "怎么联系人工客服？",
        "在App内点击“联系客服”并输入“人工”，或拨打客服热线400-800-1234（9:00-22:00）。",
        "How can I talk to a person?",
        "Tap 'Contact us' in the app and type 'agent', or call 400-800-1234 between 9:00 and "
        "22:00.",
    ),
    "late_delivery": (
        "快递超时还没到怎么办？",
        "超过预计送达时间仍未收到，请提供订单号，我们会联系快递核实；延误超过3天可获得补偿券。",
        "My parcel is late. What can I do?",
        "If your parcel is past its promised date, send us the order number and we will chase "
        "the carrier. Delays over 3 days earn a compensation coupon.",
    ),
    "lost_parcel": (
        "包裹丢了怎么办？",
        "物流信息长时间未更新或显示异常时，我们会向快递公司发起调查，确认丢件后立即补发或退款。",
        "What happens if my parcel is lost?",
        "If tracking stops updating or shows an exception, we open an investigation with the "
        "carrier and resend or refund as soon as the loss is confirmed.",
    ),
    "privacy_data": (
        "怎么删除我的个人信息？",
        "在“账户设置-隐私”中可以关闭个性化推荐和营销消息，或申请注销账户并删除个人信息，我们会在15天内处理完毕。",
        "How do I delete my personal data?",
        "Under 'Account settings > Privacy' you can switch off personalised recommendations "
        "and marketing, or ask us to close your account and erase your data within 15 days.",
    ),
}

# intent -> (zh templates, en templates); "{order}" and "{product}" are filled in.
QUESTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "order_status": (
        (
            "我的订单{order}到哪了？",
            "帮我查一下订单{order}的状态",
            "订单{order}发货了吗",
            "{order}这个单子现在什么情况",
        ),
        (
            "Where is my order {order}?",
            "Can you check the status of order {order}?",
            "Has order {order} shipped yet?",
            "Any update on {order}?",
        ),
    ),
    "shipping_time": (
        ("今天下单什么时候发货？", "付款后多久能发出", "{product}现在买几天发货"),
        (
            "If I order today, when will it ship?",
            "How long until you dispatch after payment?",
            "When would {product} ship if I buy now?",
        ),
    ),
    "delivery_time": (
        ("寄到我这里要几天", "一般多久能收到货？", "{product}几天能送到"),
        (
            "How many days to deliver to my city?",
            "How long does delivery usually take?",
            "How fast can {product} get to me?",
        ),
    ),
    "shipping_fee": (
        ("包邮吗？", "运费多少钱", "买{product}要运费吗"),
        ("Is shipping free?", "What's the delivery charge?", "Do I pay shipping for {product}?"),
    ),
    "international_shipping": (
        ("能寄到新加坡吗", "可以发国外吗？", "海外地址能下单吗"),
        (
            "Do you deliver to Singapore?",
            "Can you ship overseas?",
            "Can I order to an address abroad?",
        ),
    ),
    "change_address": (
        ("订单{order}地址填错了，能改吗", "我想改一下收货地址", "{order}能换个地址吗"),
        (
            "I put the wrong address on {order}, can I change it?",
            "How do I update my delivery address?",
            "Can {order} go to a different address?",
        ),
    ),
    "cancel_order": (
        ("我想取消订单{order}", "拍错了，怎么取消", "{order}不要了，帮我取消"),
        (
            "Please cancel order {order}",
            "I ordered by mistake, how do I cancel?",
            "I no longer need {order}, cancel it please",
        ),
    ),
    "returns": (
        ("{product}不合适，想退货", "怎么申请退货？", "订单{order}可以退吗"),
        ("I want to return {product}", "How do I start a return?", "Can I return order {order}?"),
    ),
    "refund_time": (
        ("退货寄回去好几天了，钱什么时候退", "订单{order}的退款怎么还没到", "退款几天到账"),
        (
            "I sent the return days ago, when do I get my money?",
            "Why hasn't the refund for {order} arrived?",
            "How long do refunds take?",
        ),
    ),
    "exchange": (
        ("{product}尺码小了能换大一号吗", "想换个颜色", "订单{order}能换货吗"),
        (
            "Can I swap {product} for a bigger size?",
            "I'd like a different colour",
            "Can I exchange the item in {order}?",
        ),
    ),
    "damaged_item": (
        ("收到的{product}是坏的！", "订单{order}里的东西摔碎了", "包装破了，商品也坏了，怎么处理"),
        (
            "{product} arrived broken!",
            "The item in order {order} is smashed",
            "The box was crushed and the product is damaged, what now?",
        ),
    ),
    "missing_item": (
        ("订单{order}少发了一件", "包裹里没有{product}", "收到的货少了"),
        (
            "Order {order} is missing an item",
            "{product} wasn't in my parcel",
            "I didn't get everything I ordered",
        ),
    ),
    "payment_methods": (
        ("可以用信用卡吗", "支持微信支付吗？", "能用花呗分期吗"),
        ("Can I pay by credit card?", "Do you take WeChat Pay?", "Can I pay in instalments?"),
    ),
    "invoice": (
        ("订单{order}能开发票吗", "怎么开专票", "发票什么时候发给我"),
        (
            "Can I get an invoice for {order}?",
            "I need a VAT invoice",
            "When will I receive my invoice?",
        ),
    ),
    "coupon": (
        ("优惠券用不了", "怎么领优惠券？", "满减券怎么用"),
        ("My coupon doesn't work", "Where do I get coupons?", "How do I apply a discount code?"),
    ),
    "price_protection": (
        ("刚买的{product}就降价了，能退差价吗", "买贵了，可以保价吗", "双十一降价了能补差价吗"),
        (
            "{product} got cheaper right after I bought it, refund the difference?",
            "Do you offer price protection?",
            "The price dropped on 11.11, can I get the difference?",
        ),
    ),
    "account_login": (
        ("账号登不上去了", "一直提示登录失败", "收不到登录验证码"),
        ("I can't sign in", "Login keeps failing", "I never receive the login code"),
    ),
    "password_reset": (
        ("忘记密码了", "怎么改密码？", "重置密码的邮件收不到"),
        ("I forgot my password", "How do I change my password?", "The reset e-mail never arrives"),
    ),
    "stock_availability": (
        ("{product}还有货吗", "这个有现货吗？", "{product}什么时候有货"),
        ("Is {product} in stock?", "Do you have this available now?", "Is {product} available?"),
    ),
    "restock": (
        ("{product}什么时候补货", "缺货的东西还会上架吗", "到货了能通知我吗"),
        (
            "When will {product} be back in stock?",
            "Will you restock this?",
            "Can you tell me when it's back?",
        ),
    ),
    "product_authenticity": (
        ("{product}是正品吗", "怎么保证是真货？", "有防伪码吗"),
        ("Is {product} genuine?", "How do I know it's not fake?", "Is there an authenticity code?"),
    ),
    "warranty": (
        ("{product}保修多久", "坏了可以免费修吗", "有质保吗？"),
        (
            "How long is the warranty on {product}?",
            "Will you repair it for free if it breaks?",
            "Does this come with a warranty?",
        ),
    ),
    "membership": (
        ("积分怎么用", "会员有什么优惠", "我的积分能抵钱吗"),
        ("How do I use my points?", "What do members get?", "Can points pay for my order?"),
    ),
    "contact_human": (
        ("转人工！", "我要找人工客服", "机器人听不懂，找个真人"),
        (
            "Let me talk to a human!",
            "I need a real agent",
            "Your bot doesn't understand, get me a person",
        ),
    ),
    "late_delivery": (
        (
            "订单{order}已经超时好几天了还没到！",
            "说好的送达时间都过了，{order}怎么还没到",
            "快递太慢了，{order}到底什么时候送",
        ),
        (
            "Order {order} is days late!",
            "The promised date has passed and {order} still isn't here",
            "Why is {order} taking so long?",
        ),
    ),
    "lost_parcel": (
        (
            "订单{order}物流好几天没更新了，是不是丢了",
            "快递显示异常，{order}的包裹丢了吗",
            "包裹丢了，{order}怎么办",
        ),
        (
            "Tracking for {order} hasn't moved in days, is it lost?",
            "Tracking shows an exception for {order}, is my parcel lost?",
            "My parcel for {order} is lost, what now?",
        ),
    ),
    "privacy_data": (
        ("怎么注销账号并删除我的信息", "不想收到推广短信了", "请删除我的个人数据"),
        (
            "How do I delete my account and data?",
            "Stop sending me marketing messages",
            "Please erase my personal data",
        ),
    ),
}

NEGATIVE_INTENTS: frozenset[str] = frozenset(
    {"damaged_item", "missing_item", "late_delivery", "lost_parcel", "contact_human"}
)
ESCALATE_INTENTS: frozenset[str] = frozenset({"damaged_item", "lost_parcel", "contact_human"})
